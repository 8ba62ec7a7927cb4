CREATE TABLE "session_compactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"automatic" boolean NOT NULL,
	"pruned_count" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "attempt_success_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "attempt_failed_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "attempt_skipped_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "session_compactions_created_idx" ON "session_compactions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "sessions_telemetry_idx" ON "sessions" USING btree ("updated_at","channel","status","connector_id","draft_id","created_at","last_event_at","last_seq","step_count","failed_step_count","cycle_failed_count","compact_count","auto_compact_count","pruned_count_total","attempt_success_count","attempt_failed_count","attempt_skipped_count","id");