-- +goose Up
-- The ETag of a presigned upload's object at confirmation. The worker
-- reads the object with If-Match on it (and never past raw_size_bytes), so
-- a presigned URL reused after confirmation cannot swap the content
-- (docs/design/uploads-and-storage.md, "Presigned upload").
ALTER TABLE material_entries ADD COLUMN raw_etag text;

-- +goose Down
ALTER TABLE material_entries DROP COLUMN raw_etag;
