CREATE TABLE "ingest_counters" (
	"hour" timestamp (3) with time zone NOT NULL,
	"connector_id" text NOT NULL,
	"channel" text NOT NULL,
	"outcome" text NOT NULL,
	"code" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "ingest_counters_hour_connector_id_channel_outcome_code_pk" PRIMARY KEY("hour","connector_id","channel","outcome","code")
);
--> statement-breakpoint
CREATE TABLE "ingest_dedup" (
	"connector_id" text NOT NULL,
	"event_id" text NOT NULL,
	"adapter" text NOT NULL,
	"channel" text NOT NULL,
	"session_id" text NOT NULL,
	"external_session_id" text,
	"session_event_id" text,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "ingest_dedup_connector_id_event_id_pk" PRIMARY KEY("connector_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "reply_deliveries" (
	"session_id" text NOT NULL,
	"reply_seq" integer NOT NULL,
	"connector_id" text NOT NULL,
	"platform" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"event_seq" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "reply_deliveries_session_id_reply_seq_pk" PRIMARY KEY("session_id","reply_seq")
);
--> statement-breakpoint
CREATE INDEX "ingest_counters_connector_hour_idx" ON "ingest_counters" USING btree ("connector_id","hour");--> statement-breakpoint
CREATE INDEX "ingest_dedup_created_idx" ON "ingest_dedup" USING btree ("created_at");