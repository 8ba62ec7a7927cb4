CREATE TABLE "session_compactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"automatic" boolean NOT NULL,
	"pruned_count" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "session_compactions_created_idx" ON "session_compactions" USING btree ("created_at");