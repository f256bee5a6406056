-- Abandoned uploads (declared, maybe uploaded, never completed) are swept by expiry.

create index media_pending_expiry_idx on media (expires_at) where status = 'pending';
