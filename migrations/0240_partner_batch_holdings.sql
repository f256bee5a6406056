-- Which of our batches a partner holds, and so may capture events onto (EPCIS capture joins their chains):
-- the batch's producer (or an admin) hands it over; taking it back deletes the row. A captured event that
-- names a batch the partner does not hold is refused, event by event.
create table partner_batch_holdings (
    partner_id uuid not null references partners (id),
    batch_id uuid not null references batches (id),
    granted_by uuid references users (id),
    created_at timestamptz not null default now(),
    primary key (partner_id, batch_id)
);
create index partner_batch_holdings_batch on partner_batch_holdings (batch_id);
