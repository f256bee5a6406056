-- Claims a shopper can trust (issue 10): who said what.
-- Authorities (e.g. Sở Nông nghiệp và Môi trường Thái Nguyên) and their inspectors; append-only reviews of
-- certificates, producers and scan alerts, each naming the reviewer and the authority they acted for;
-- a certificate's document (photo or PDF in the media store). Scan alerts no longer mark a unit as
-- counterfeit by themselves: only an inspector's confirmation does.

create table authorities (
    id uuid primary key default gen_random_uuid(),
    name text not null unique check (char_length(name) between 1 and 200),
    name_en text check (char_length(name_en) between 1 and 200),
    created_by uuid references users (id),
    created_at timestamptz not null default now()
);

-- An inspector (or admin) acts for one authority; producers never belong to one.
alter table users add column authority_id uuid references authorities (id);
alter table users add constraint users_authority_role_check
    check (authority_id is null or role in ('inspector', 'admin'));
create index users_authority_idx on users (authority_id) where authority_id is not null;

create function refuse_change() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'restrict_violation';
end
$$;

-- The certificate document: a photo or PDF in the media store (purpose 'certificate').
alter table certifications add column document_media_id uuid references media (id);

create table certification_reviews (
    id uuid primary key default gen_random_uuid(),
    certification_id uuid not null references certifications (id),
    decision text not null check (decision in ('verified', 'rejected')),
    reason text check (char_length(reason) between 1 and 2000),
    authority_id uuid not null references authorities (id),
    reviewer_id uuid not null references users (id),
    created_at timestamptz not null default now(),
    check (decision = 'verified' or reason is not null)
);
create index certification_reviews_cert_idx on certification_reviews (certification_id, created_at desc);
create trigger certification_reviews_append_only
    before update or delete on certification_reviews for each row execute function refuse_change();
create trigger certification_reviews_no_truncate
    before truncate on certification_reviews for each statement execute function refuse_change();
create trigger certification_reviews_changed after insert on certification_reviews
    for each row execute function notify_change('certification_id');

-- Producer verification, as a trail (organizations.verification_status keeps the latest decision).
create table organization_reviews (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references organizations (id),
    decision text not null check (decision in ('unverified', 'verified', 'rejected')),
    authority_id uuid not null references authorities (id),
    reviewer_id uuid not null references users (id),
    created_at timestamptz not null default now()
);
create index organization_reviews_org_idx on organization_reviews (organization_id, created_at desc);
create trigger organization_reviews_append_only
    before update or delete on organization_reviews for each row execute function refuse_change();
create trigger organization_reviews_no_truncate
    before truncate on organization_reviews for each statement execute function refuse_change();

-- Scan alerts are evidence for people: reviewed by inspectors (confirm, dismiss) or the owner (dismiss).
create table scan_alert_reviews (
    id uuid primary key default gen_random_uuid(),
    alert_id uuid not null references scan_alerts (id),
    decision text not null check (decision in ('confirmed_counterfeit', 'dismissed')),
    reason text not null check (char_length(reason) between 1 and 2000),
    reviewer_id uuid not null references users (id),
    -- the authority an inspector acted for; null when the owner dismissed
    authority_id uuid references authorities (id),
    created_at timestamptz not null default now(),
    check (decision = 'dismissed' or authority_id is not null)
);
create index scan_alert_reviews_alert_idx on scan_alert_reviews (alert_id, created_at desc);
create trigger scan_alert_reviews_append_only
    before update or delete on scan_alert_reviews for each row execute function refuse_change();
create trigger scan_alert_reviews_no_truncate
    before truncate on scan_alert_reviews for each statement execute function refuse_change();

-- The open alert count per unit is what inspectors' queue reads.
create index scan_alerts_unit_idx on scan_alerts (unit_id);

-- Flags set automatically until now were never confirmed by anyone: clear them (their alerts stay, for review).
update units set flagged_at = null, flag_reason = null where flagged_at is not null;
