-- A webhook's deliveries, in order: GET .../webhooks/{id}/deliveries numbers them within
-- their webhook and reads them a page at a time (api/paging.py). Without this index each
-- page read every delivery of the server (one row per notice and webhook, never removed
-- while the webhook stands), and deleting a webhook scanned them all for its cascade.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
