CREATE TABLE "agent_replies" (
	"session_id" text NOT NULL,
	"in_reply_to_seq" integer NOT NULL,
	"reply_seq" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "agent_replies_session_id_in_reply_to_seq_pk" PRIMARY KEY("session_id","in_reply_to_seq")
);
--> statement-breakpoint
CREATE TABLE "draft_revisions" (
	"draft_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"source" text NOT NULL,
	"run_id" uuid,
	"verdict" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "draft_revisions_draft_id_revision_pk" PRIMARY KEY("draft_id","revision")
);
--> statement-breakpoint
CREATE TABLE "drafts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"context" jsonb,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"draft_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"external_session_id" text,
	"prompt_seed" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"next_step" integer DEFAULT 0 NOT NULL,
	"verdict" jsonb,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"finished_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "orchestration_steps" (
	"run_id" uuid NOT NULL,
	"step_index" integer NOT NULL,
	"role" text NOT NULL,
	"prompt" text NOT NULL,
	"result" jsonb NOT NULL,
	"event_seq" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "orchestration_steps_run_id_step_index_pk" PRIMARY KEY("run_id","step_index")
);
--> statement-breakpoint
CREATE INDEX "drafts_updated_idx" ON "drafts" USING btree ("updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "orchestration_runs_status_idx" ON "orchestration_runs" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "orchestration_runs_session_idx" ON "orchestration_runs" USING btree ("session_id");