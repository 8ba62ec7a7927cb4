import { OUTBOX_QUEUE } from '../channels/reply-outbox.js';
import { DRAFT_CYCLE_QUEUE } from '../orchestration/draft-cycle.js';
import { REPLY_QUEUE } from '../orchestration/reply-worker.js';
import { SWEEPER_QUEUE } from '../orchestration/sweeper.js';
import type { QueueDefinition } from './job-queue.js';

/**
 * The durable queues. A worker that dies stops its heartbeat and its job is retried within ~10 s; the run's
 * (run, step) keys make the retry skip finished steps.
 */
export const jobQueues: QueueDefinition[] = [
  {
    name: DRAFT_CYCLE_QUEUE,
    retryLimit: 20,
    retryDelaySeconds: 2,
    heartbeatSeconds: 10,
    expireInSeconds: 900,
  },
  { name: REPLY_QUEUE, retryLimit: 10, retryDelaySeconds: 2, heartbeatSeconds: 10, expireInSeconds: 300 },
  // One job per delivery attempt; the outbox itself schedules the next attempt after the platform's retry_after.
  { name: OUTBOX_QUEUE, retryLimit: 5, retryDelaySeconds: 5, heartbeatSeconds: 10, expireInSeconds: 120 },
  { name: SWEEPER_QUEUE, retryLimit: 0, retryDelaySeconds: 60, expireInSeconds: 300 },
];
