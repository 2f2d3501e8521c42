-- +goose Up
-- Slide–video mappings: "slide N of this deck is shown at 12:30 of that
-- video" (docs/design/mappings.md). The three states are the outcome of
-- the readiness and content checks, re-run as materials become ready.
CREATE TYPE mapping_validation_state_enum AS ENUM ('pending_validation', 'validated', 'validation_failed');

CREATE TABLE slide_video_mappings (
    id                            uuid PRIMARY KEY,
    materialnode_id               uuid NOT NULL REFERENCES material_nodes (id) ON DELETE CASCADE,
    presentation_materialentry_id uuid NOT NULL REFERENCES material_entries (id) ON DELETE CASCADE,
    video_materialentry_id        uuid NOT NULL REFERENCES material_entries (id) ON DELETE CASCADE,
    slide_number                  integer NOT NULL CHECK (slide_number >= 1),
    -- As submitted (MM:SS or HH:MM:SS); the seconds are what is compared.
    video_timecode_start          varchar(20) NOT NULL,
    video_timecode_start_sec      integer NOT NULL CHECK (video_timecode_start_sec >= 0),
    video_timecode_end            varchar(20),
    video_timecode_end_sec        integer
        CHECK (video_timecode_end_sec IS NULL OR video_timecode_end_sec >= video_timecode_start_sec),
    validation_state              mapping_validation_state_enum NOT NULL DEFAULT 'pending_validation',
    blocking_factors              jsonb,
    validation_errors             jsonb,
    validated_at                  timestamptz,
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    -- The natural key: deduplication holds under concurrent requests
    -- because the insert is ON CONFLICT DO NOTHING against this key.
    CONSTRAINT slide_video_mappings_natural_key UNIQUE (materialnode_id, presentation_materialentry_id,
        video_materialentry_id, slide_number, video_timecode_start_sec)
);
-- materialnode_id is the leading column of the natural key's index.
CREATE INDEX slide_video_mappings_presentation_idx ON slide_video_mappings (presentation_materialentry_id);
CREATE INDEX slide_video_mappings_video_idx ON slide_video_mappings (video_materialentry_id);
-- The reaper's re-validation pass looks only at pending mappings.
CREATE INDEX slide_video_mappings_pending_idx ON slide_video_mappings (id)
    WHERE validation_state = 'pending_validation';
CREATE TRIGGER slide_video_mappings_updated_at BEFORE UPDATE ON slide_video_mappings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- +goose Down
DROP TABLE IF EXISTS slide_video_mappings;
DROP TYPE IF EXISTS mapping_validation_state_enum;
