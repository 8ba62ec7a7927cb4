CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"token_id" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"status_code" integer NOT NULL,
	"request_id" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "session_counters" (
	"session_id" text NOT NULL,
	"dimension" text NOT NULL,
	"key" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "session_counters_session_id_dimension_key_pk" PRIMARY KEY("session_id","dimension","key")
);
--> statement-breakpoint
CREATE TABLE "session_event_archive" (
	"id" text NOT NULL,
	"session_id" text NOT NULL,
	"seq" integer NOT NULL,
	"from_role" text NOT NULL,
	"to_role" text,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"connector_id" text,
	"provider" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"archived_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "session_event_archive_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
CREATE TABLE "session_events" (
	"id" text NOT NULL,
	"session_id" text NOT NULL,
	"seq" integer NOT NULL,
	"from_role" text NOT NULL,
	"to_role" text,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"connector_id" text,
	"provider" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "session_events_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"external_session_id" text,
	"draft_id" uuid,
	"connector_id" text,
	"roles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"last_event_at" timestamp (3) with time zone,
	"closed_at" timestamp (3) with time zone,
	"last_seq" integer DEFAULT 0 NOT NULL,
	"event_count" integer DEFAULT 0 NOT NULL,
	"archived_count" integer DEFAULT 0 NOT NULL,
	"last_event_type" text,
	"step_count" integer DEFAULT 0 NOT NULL,
	"failed_step_count" integer DEFAULT 0 NOT NULL,
	"cycle_completed_count" integer DEFAULT 0 NOT NULL,
	"cycle_failed_count" integer DEFAULT 0 NOT NULL,
	"compact_count" integer DEFAULT 0 NOT NULL,
	"auto_compact_count" integer DEFAULT 0 NOT NULL,
	"pruned_count_total" integer DEFAULT 0 NOT NULL,
	"last_compacted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "audit_log_created_idx" ON "audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "session_counters_dim_key_idx" ON "session_counters" USING btree ("dimension","key");--> statement-breakpoint
CREATE INDEX "session_event_archive_archived_idx" ON "session_event_archive" USING btree ("archived_at");--> statement-breakpoint
CREATE UNIQUE INDEX "session_events_id_idx" ON "session_events" USING btree ("id");--> statement-breakpoint
CREATE INDEX "session_events_created_idx" ON "session_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "sessions_updated_idx" ON "sessions" USING btree ("updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sessions_channel_updated_idx" ON "sessions" USING btree ("channel","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sessions_status_last_event_idx" ON "sessions" USING btree ("status","last_event_at");--> statement-breakpoint
CREATE INDEX "sessions_connector_idx" ON "sessions" USING btree ("connector_id");