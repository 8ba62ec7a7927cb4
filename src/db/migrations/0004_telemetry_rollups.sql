CREATE TABLE "telemetry_provider_deltas" (
	"updated_hour" timestamp (3) with time zone NOT NULL,
	"channel" text NOT NULL,
	"connector_id" text NOT NULL,
	"provider" text NOT NULL,
	"sessions" bigint NOT NULL,
	"events" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_provider_rollups" (
	"updated_hour" timestamp (3) with time zone NOT NULL,
	"channel" text NOT NULL,
	"connector_id" text NOT NULL,
	"provider" text NOT NULL,
	"sessions" bigint NOT NULL,
	"events" bigint NOT NULL,
	CONSTRAINT "telemetry_provider_rollups_pk" PRIMARY KEY("updated_hour","channel","connector_id","provider")
);
--> statement-breakpoint
CREATE TABLE "telemetry_provider_session_deltas" (
	"provider" text NOT NULL,
	"updated_hour" timestamp (3) with time zone NOT NULL,
	"activity_hour" timestamp (3) with time zone NOT NULL,
	"channel" text NOT NULL,
	"adapter" text NOT NULL,
	"connector_id" text NOT NULL,
	"status" text NOT NULL,
	"failed" boolean NOT NULL,
	"sessions" bigint NOT NULL,
	"compacted" bigint NOT NULL,
	"auto_compacted" bigint NOT NULL,
	"events" bigint NOT NULL,
	"steps" bigint NOT NULL,
	"failed_steps" bigint NOT NULL,
	"compactions" bigint NOT NULL,
	"auto_compactions" bigint NOT NULL,
	"pruned" bigint NOT NULL,
	"attempt_success" bigint NOT NULL,
	"attempt_failed" bigint NOT NULL,
	"attempt_skipped" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_provider_session_rollups" (
	"provider" text NOT NULL,
	"updated_hour" timestamp (3) with time zone NOT NULL,
	"activity_hour" timestamp (3) with time zone NOT NULL,
	"channel" text NOT NULL,
	"adapter" text NOT NULL,
	"connector_id" text NOT NULL,
	"status" text NOT NULL,
	"failed" boolean NOT NULL,
	"sessions" bigint NOT NULL,
	"compacted" bigint NOT NULL,
	"auto_compacted" bigint NOT NULL,
	"events" bigint NOT NULL,
	"steps" bigint NOT NULL,
	"failed_steps" bigint NOT NULL,
	"compactions" bigint NOT NULL,
	"auto_compactions" bigint NOT NULL,
	"pruned" bigint NOT NULL,
	"attempt_success" bigint NOT NULL,
	"attempt_failed" bigint NOT NULL,
	"attempt_skipped" bigint NOT NULL,
	CONSTRAINT "telemetry_provider_session_rollups_pk" PRIMARY KEY("provider","updated_hour","activity_hour","channel","adapter","connector_id","status","failed")
);
--> statement-breakpoint
CREATE TABLE "telemetry_session_deltas" (
	"updated_hour" timestamp (3) with time zone NOT NULL,
	"activity_hour" timestamp (3) with time zone NOT NULL,
	"channel" text NOT NULL,
	"adapter" text NOT NULL,
	"connector_id" text NOT NULL,
	"status" text NOT NULL,
	"failed" boolean NOT NULL,
	"sessions" bigint NOT NULL,
	"compacted" bigint NOT NULL,
	"auto_compacted" bigint NOT NULL,
	"events" bigint NOT NULL,
	"steps" bigint NOT NULL,
	"failed_steps" bigint NOT NULL,
	"compactions" bigint NOT NULL,
	"auto_compactions" bigint NOT NULL,
	"pruned" bigint NOT NULL,
	"attempt_success" bigint NOT NULL,
	"attempt_failed" bigint NOT NULL,
	"attempt_skipped" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_session_rollups" (
	"updated_hour" timestamp (3) with time zone NOT NULL,
	"activity_hour" timestamp (3) with time zone NOT NULL,
	"channel" text NOT NULL,
	"adapter" text NOT NULL,
	"connector_id" text NOT NULL,
	"status" text NOT NULL,
	"failed" boolean NOT NULL,
	"sessions" bigint NOT NULL,
	"compacted" bigint NOT NULL,
	"auto_compacted" bigint NOT NULL,
	"events" bigint NOT NULL,
	"steps" bigint NOT NULL,
	"failed_steps" bigint NOT NULL,
	"compactions" bigint NOT NULL,
	"auto_compactions" bigint NOT NULL,
	"pruned" bigint NOT NULL,
	"attempt_success" bigint NOT NULL,
	"attempt_failed" bigint NOT NULL,
	"attempt_skipped" bigint NOT NULL,
	CONSTRAINT "telemetry_session_rollups_pk" PRIMARY KEY("updated_hour","activity_hour","channel","adapter","connector_id","status","failed")
);
--> statement-breakpoint
DROP INDEX "sessions_telemetry_idx";--> statement-breakpoint
ALTER TABLE "session_compactions" ADD COLUMN "channel" text;--> statement-breakpoint
ALTER TABLE "session_compactions" ADD COLUMN "connector_id" text;--> statement-breakpoint
ALTER TABLE "session_counters" ADD COLUMN "updated_hour" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "session_counters" ADD COLUMN "channel" text;--> statement-breakpoint
ALTER TABLE "session_counters" ADD COLUMN "connector_id" text;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "providers" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE INDEX "sessions_active_activity_idx" ON "sessions" USING btree (coalesce("last_event_at", "created_at")) WHERE "sessions"."status" = 'active';--> statement-breakpoint
-- Telemetry roll-ups (hand-written below the generated part). Every change to a session row or a provider counter
-- writes delta rows (insert-only: concurrent writers never wait on a shared row); agw_fold_telemetry() moves the
-- deltas into the keyed roll-up rows. Three roll-ups: sessions by (updated hour, activity hour, channel, adapter,
-- connector, status, failed); the same once per provider the session used (sessions.providers, kept by the counter
-- trigger); provider usage (events, sessions) by (updated hour, channel, connector, provider), from the provider
-- counters, which carry their session's key. Hours are UTC. src/telemetry/telemetry-store.ts reads them.
-- A session's contribution to its roll-up key, times sign (+1 in, -1 out).
CREATE FUNCTION agw_session_delta(s sessions, sign integer) RETURNS telemetry_session_deltas LANGUAGE sql STABLE AS $$
  SELECT date_trunc('hour', s.updated_at, 'UTC'), date_trunc('hour', coalesce(s.last_event_at, s.created_at), 'UTC'),
    s.channel,
    CASE WHEN s.connector_id IS NOT NULL THEN 'external_webhook' WHEN s.draft_id IS NOT NULL THEN 'live_session' ELSE 'web' END,
    coalesce(s.connector_id, ''), s.status, (s.failed_step_count > 0 OR s.cycle_failed_count > 0),
    sign::bigint, sign * (s.compact_count > 0)::int, sign * (s.auto_compact_count > 0)::int, sign * s.last_seq,
    sign * s.step_count, sign * s.failed_step_count, sign * s.compact_count, sign * s.auto_compact_count,
    sign * s.pruned_count_total, sign * s.attempt_success_count, sign * s.attempt_failed_count,
    sign * s.attempt_skipped_count
$$;
--> statement-breakpoint
CREATE FUNCTION agw_session_rollup_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  o telemetry_session_deltas;
  n telemetry_session_deltas;
  d telemetry_session_deltas;
BEGIN
  IF TG_OP = 'UPDATE'
     AND date_trunc('hour', NEW.updated_at, 'UTC') = date_trunc('hour', OLD.updated_at, 'UTC')
     AND date_trunc('hour', coalesce(NEW.last_event_at, NEW.created_at), 'UTC')
         = date_trunc('hour', coalesce(OLD.last_event_at, OLD.created_at), 'UTC')
     AND NEW.status = OLD.status
     AND (NEW.failed_step_count > 0 OR NEW.cycle_failed_count > 0) = (OLD.failed_step_count > 0 OR OLD.cycle_failed_count > 0)
     AND NEW.channel = OLD.channel
     AND NEW.connector_id IS NOT DISTINCT FROM OLD.connector_id
     AND NEW.draft_id IS NOT DISTINCT FROM OLD.draft_id THEN
    -- The common case (an append within the hour), written without helper calls: one delta row with the
    -- differences (none if nothing counted moved), the same row again for every provider the session already had.
    IF (NEW.last_seq, NEW.step_count, NEW.failed_step_count, NEW.compact_count, NEW.auto_compact_count,
        NEW.pruned_count_total, NEW.attempt_success_count, NEW.attempt_failed_count, NEW.attempt_skipped_count)
       IS DISTINCT FROM
       (OLD.last_seq, OLD.step_count, OLD.failed_step_count, OLD.compact_count, OLD.auto_compact_count,
        OLD.pruned_count_total, OLD.attempt_success_count, OLD.attempt_failed_count, OLD.attempt_skipped_count) THEN
      INSERT INTO telemetry_session_deltas
      VALUES (date_trunc('hour', NEW.updated_at, 'UTC'),
        date_trunc('hour', coalesce(NEW.last_event_at, NEW.created_at), 'UTC'), NEW.channel,
        CASE WHEN NEW.connector_id IS NOT NULL THEN 'external_webhook' WHEN NEW.draft_id IS NOT NULL THEN 'live_session' ELSE 'web' END,
        coalesce(NEW.connector_id, ''), NEW.status, (NEW.failed_step_count > 0 OR NEW.cycle_failed_count > 0), 0,
        (NEW.compact_count > 0)::int - (OLD.compact_count > 0)::int,
        (NEW.auto_compact_count > 0)::int - (OLD.auto_compact_count > 0)::int,
        NEW.last_seq - OLD.last_seq, NEW.step_count - OLD.step_count, NEW.failed_step_count - OLD.failed_step_count,
        NEW.compact_count - OLD.compact_count, NEW.auto_compact_count - OLD.auto_compact_count,
        NEW.pruned_count_total - OLD.pruned_count_total, NEW.attempt_success_count - OLD.attempt_success_count,
        NEW.attempt_failed_count - OLD.attempt_failed_count, NEW.attempt_skipped_count - OLD.attempt_skipped_count)
      RETURNING * INTO d;
      IF cardinality(OLD.providers) > 0 THEN
        INSERT INTO telemetry_provider_session_deltas
          SELECT p, (d).* FROM unnest(NEW.providers) p WHERE p = ANY (OLD.providers);
      END IF;
    END IF;
    IF NEW.providers IS DISTINCT FROM OLD.providers THEN
      n := agw_session_delta(NEW, 1);
      o := agw_session_delta(OLD, -1);
      INSERT INTO telemetry_provider_session_deltas
        SELECT p, (n).* FROM unnest(NEW.providers) p WHERE NOT p = ANY (OLD.providers);
      INSERT INTO telemetry_provider_session_deltas
        SELECT p, (o).* FROM unnest(OLD.providers) p WHERE NOT p = ANY (NEW.providers);
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    o := agw_session_delta(OLD, -1);
    INSERT INTO telemetry_session_deltas SELECT (o).*;
    IF cardinality(OLD.providers) > 0 THEN
      INSERT INTO telemetry_provider_session_deltas SELECT p, (o).* FROM unnest(OLD.providers) p;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    n := agw_session_delta(NEW, 1);
    INSERT INTO telemetry_session_deltas SELECT (n).*;
    IF cardinality(NEW.providers) > 0 THEN
      INSERT INTO telemetry_provider_session_deltas SELECT p, (n).* FROM unnest(NEW.providers) p;
    END IF;
    -- The session's provider counters follow it to its new hour (their own trigger moves their counts).
    IF TG_OP = 'INSERT' OR n.updated_hour IS DISTINCT FROM o.updated_hour THEN
      UPDATE session_counters SET updated_hour = n.updated_hour, channel = NEW.channel,
        connector_id = coalesce(NEW.connector_id, '')
      WHERE session_id = NEW.id AND dimension = 'provider' AND updated_hour IS DISTINCT FROM n.updated_hour;
    END IF;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION agw_counter_key_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A provider counter takes its session's roll-up key. When the session row is not visible yet (created by the
  -- same statement), the key stays NULL and the session's own trigger fills it in at the end of the statement.
  SELECT date_trunc('hour', s.updated_at, 'UTC'), s.channel, coalesce(s.connector_id, '')
    INTO NEW.updated_hour, NEW.channel, NEW.connector_id
    FROM sessions s WHERE s.id = NEW.session_id;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE FUNCTION agw_counter_rollup_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.updated_hour IS NOT DISTINCT FROM OLD.updated_hour THEN
    IF NEW.updated_hour IS NOT NULL AND NEW.count <> OLD.count THEN
      INSERT INTO telemetry_provider_deltas (updated_hour, channel, connector_id, provider, sessions, events)
      VALUES (NEW.updated_hour, NEW.channel, NEW.connector_id, NEW.key, 0, NEW.count - OLD.count);
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.updated_hour IS NOT NULL THEN
    INSERT INTO telemetry_provider_deltas (updated_hour, channel, connector_id, provider, sessions, events)
    VALUES (OLD.updated_hour, OLD.channel, OLD.connector_id, OLD.key, -1, -OLD.count);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.updated_hour IS NOT NULL THEN
    INSERT INTO telemetry_provider_deltas (updated_hour, channel, connector_id, provider, sessions, events)
    VALUES (NEW.updated_hour, NEW.channel, NEW.connector_id, NEW.key, 1, NEW.count);
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- The session now counts for this provider (the session trigger books it into the per-provider roll-up).
    UPDATE sessions SET providers = array_append(providers, NEW.key)
    WHERE id = NEW.session_id AND NOT NEW.key = ANY (providers);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION agw_compaction_key_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT s.channel, s.connector_id INTO NEW.channel, NEW.connector_id FROM sessions s WHERE s.id = NEW.session_id;
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Moves committed deltas into the roll-ups. One folder at a time (a second caller returns -1 at once): two folds
-- upserting the same keys in different orders could otherwise deadlock. Roll-up rows left with no sessions go.
CREATE FUNCTION agw_fold_telemetry() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  folded integer := 0;
  n integer;
  oldest timestamptz;
BEGIN
  IF NOT pg_try_advisory_xact_lock(727003) THEN
    RETURN -1;
  END IF;
  WITH moved AS (DELETE FROM telemetry_session_deltas RETURNING *),
  merged AS (
    INSERT INTO telemetry_session_rollups AS r
    SELECT updated_hour, activity_hour, channel, adapter, connector_id, status, failed, sum(sessions),
      sum(compacted), sum(auto_compacted), sum(events), sum(steps), sum(failed_steps), sum(compactions),
      sum(auto_compactions), sum(pruned), sum(attempt_success), sum(attempt_failed), sum(attempt_skipped)
    FROM moved GROUP BY updated_hour, activity_hour, channel, adapter, connector_id, status, failed
    ON CONFLICT (updated_hour, activity_hour, channel, adapter, connector_id, status, failed) DO UPDATE SET
      sessions = r.sessions + excluded.sessions, compacted = r.compacted + excluded.compacted,
      auto_compacted = r.auto_compacted + excluded.auto_compacted, events = r.events + excluded.events,
      steps = r.steps + excluded.steps, failed_steps = r.failed_steps + excluded.failed_steps,
      compactions = r.compactions + excluded.compactions, auto_compactions = r.auto_compactions + excluded.auto_compactions,
      pruned = r.pruned + excluded.pruned, attempt_success = r.attempt_success + excluded.attempt_success,
      attempt_failed = r.attempt_failed + excluded.attempt_failed, attempt_skipped = r.attempt_skipped + excluded.attempt_skipped
    RETURNING r.updated_hour
  )
  SELECT count(*), min(updated_hour) INTO n, oldest FROM merged;
  folded := folded + n;
  IF oldest IS NOT NULL THEN
    DELETE FROM telemetry_session_rollups WHERE updated_hour >= oldest AND sessions = 0;
  END IF;
  WITH moved AS (DELETE FROM telemetry_provider_session_deltas RETURNING *),
  merged AS (
    INSERT INTO telemetry_provider_session_rollups AS r
    SELECT provider, updated_hour, activity_hour, channel, adapter, connector_id, status, failed, sum(sessions),
      sum(compacted), sum(auto_compacted), sum(events), sum(steps), sum(failed_steps), sum(compactions),
      sum(auto_compactions), sum(pruned), sum(attempt_success), sum(attempt_failed), sum(attempt_skipped)
    FROM moved GROUP BY provider, updated_hour, activity_hour, channel, adapter, connector_id, status, failed
    ON CONFLICT (provider, updated_hour, activity_hour, channel, adapter, connector_id, status, failed) DO UPDATE SET
      sessions = r.sessions + excluded.sessions, compacted = r.compacted + excluded.compacted,
      auto_compacted = r.auto_compacted + excluded.auto_compacted, events = r.events + excluded.events,
      steps = r.steps + excluded.steps, failed_steps = r.failed_steps + excluded.failed_steps,
      compactions = r.compactions + excluded.compactions, auto_compactions = r.auto_compactions + excluded.auto_compactions,
      pruned = r.pruned + excluded.pruned, attempt_success = r.attempt_success + excluded.attempt_success,
      attempt_failed = r.attempt_failed + excluded.attempt_failed, attempt_skipped = r.attempt_skipped + excluded.attempt_skipped
    RETURNING r.updated_hour
  )
  SELECT count(*), min(updated_hour) INTO n, oldest FROM merged;
  folded := folded + n;
  IF oldest IS NOT NULL THEN
    -- (provider leads this key, so the hour bound cannot narrow the scan; the table is small.)
    DELETE FROM telemetry_provider_session_rollups WHERE sessions = 0;
  END IF;
  WITH moved AS (DELETE FROM telemetry_provider_deltas RETURNING *),
  merged AS (
    INSERT INTO telemetry_provider_rollups AS r
    SELECT updated_hour, channel, connector_id, provider, sum(sessions), sum(events)
    FROM moved GROUP BY updated_hour, channel, connector_id, provider
    ON CONFLICT (updated_hour, channel, connector_id, provider) DO UPDATE SET
      sessions = r.sessions + excluded.sessions, events = r.events + excluded.events
    RETURNING r.updated_hour
  )
  SELECT count(*), min(updated_hour) INTO n, oldest FROM merged;
  folded := folded + n;
  IF oldest IS NOT NULL THEN
    DELETE FROM telemetry_provider_rollups WHERE updated_hour >= oldest AND sessions = 0;
  END IF;
  RETURN folded;
END
$$;
--> statement-breakpoint
-- Backfill from the rows that exist, before the triggers are on.
UPDATE sessions s SET providers = c.providers
FROM (SELECT session_id, array_agg(key ORDER BY key) AS providers FROM session_counters
      WHERE dimension = 'provider' GROUP BY session_id) c
WHERE s.id = c.session_id;
--> statement-breakpoint
UPDATE session_counters c SET updated_hour = date_trunc('hour', s.updated_at, 'UTC'), channel = s.channel,
  connector_id = coalesce(s.connector_id, '')
FROM sessions s WHERE c.session_id = s.id AND c.dimension = 'provider';
--> statement-breakpoint
UPDATE session_compactions c SET channel = s.channel, connector_id = s.connector_id FROM sessions s WHERE c.session_id = s.id;
--> statement-breakpoint
INSERT INTO telemetry_session_rollups
SELECT date_trunc('hour', s.updated_at, 'UTC'), date_trunc('hour', coalesce(s.last_event_at, s.created_at), 'UTC'),
  s.channel,
  CASE WHEN s.connector_id IS NOT NULL THEN 'external_webhook' WHEN s.draft_id IS NOT NULL THEN 'live_session' ELSE 'web' END,
  coalesce(s.connector_id, ''), s.status, (s.failed_step_count > 0 OR s.cycle_failed_count > 0),
  count(*), count(*) FILTER (WHERE s.compact_count > 0), count(*) FILTER (WHERE s.auto_compact_count > 0),
  sum(s.last_seq), sum(s.step_count), sum(s.failed_step_count), sum(s.compact_count), sum(s.auto_compact_count),
  sum(s.pruned_count_total), sum(s.attempt_success_count), sum(s.attempt_failed_count), sum(s.attempt_skipped_count)
FROM sessions s GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
INSERT INTO telemetry_provider_session_rollups
SELECT p, date_trunc('hour', s.updated_at, 'UTC'), date_trunc('hour', coalesce(s.last_event_at, s.created_at), 'UTC'),
  s.channel,
  CASE WHEN s.connector_id IS NOT NULL THEN 'external_webhook' WHEN s.draft_id IS NOT NULL THEN 'live_session' ELSE 'web' END,
  coalesce(s.connector_id, ''), s.status, (s.failed_step_count > 0 OR s.cycle_failed_count > 0),
  count(*), count(*) FILTER (WHERE s.compact_count > 0), count(*) FILTER (WHERE s.auto_compact_count > 0),
  sum(s.last_seq), sum(s.step_count), sum(s.failed_step_count), sum(s.compact_count), sum(s.auto_compact_count),
  sum(s.pruned_count_total), sum(s.attempt_success_count), sum(s.attempt_failed_count), sum(s.attempt_skipped_count)
FROM sessions s, unnest(s.providers) p GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
--> statement-breakpoint
INSERT INTO telemetry_provider_rollups
SELECT updated_hour, channel, connector_id, key, count(*), sum(count)
FROM session_counters WHERE dimension = 'provider' AND updated_hour IS NOT NULL GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
CREATE TRIGGER sessions_telemetry_rollup AFTER INSERT OR UPDATE OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION agw_session_rollup_trigger();
--> statement-breakpoint
CREATE TRIGGER session_counters_rollup_key BEFORE INSERT ON session_counters
  FOR EACH ROW WHEN (NEW.dimension = 'provider') EXECUTE FUNCTION agw_counter_key_trigger();
--> statement-breakpoint
CREATE TRIGGER session_counters_rollup_insert AFTER INSERT ON session_counters
  FOR EACH ROW WHEN (NEW.dimension = 'provider') EXECUTE FUNCTION agw_counter_rollup_trigger();
--> statement-breakpoint
CREATE TRIGGER session_counters_rollup_update AFTER UPDATE ON session_counters
  FOR EACH ROW WHEN (NEW.dimension = 'provider') EXECUTE FUNCTION agw_counter_rollup_trigger();
--> statement-breakpoint
CREATE TRIGGER session_counters_rollup_delete AFTER DELETE ON session_counters
  FOR EACH ROW WHEN (OLD.dimension = 'provider') EXECUTE FUNCTION agw_counter_rollup_trigger();
--> statement-breakpoint
CREATE TRIGGER session_compactions_key BEFORE INSERT ON session_compactions
  FOR EACH ROW EXECUTE FUNCTION agw_compaction_key_trigger();
