import { describe, expect, it } from 'vitest';
import { mapSlackEnvelope, verifySlack } from './slack-webhook.js';

// Slack's own worked example from "Verifying requests from Slack".
const signingSecret = '8f742231b10e8888abcd99yyyzzz85a5';
const timestamp = '1531420618';
const body =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const connector = { platform: 'slack' as const, secret: signingSecret, apiBaseUrl: 'http://127.0.0.1:1' };

describe('Slack request verification', () => {
  it('verifies the documented signing example', () => {
    expect(() =>
      verifySlack(connector, signature, timestamp, Buffer.from(body), Number(timestamp) + 10),
    ).not.toThrow();
  });

  it('refuses a changed body, a wrong secret, and a timestamp older than five minutes', () => {
    const check = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return (error as { code: string }).code;
      }
      return 'ok';
    };
    expect(
      check(() => verifySlack(connector, signature, timestamp, Buffer.from(`${body}x`), Number(timestamp))),
    ).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    expect(
      check(() =>
        verifySlack(
          { ...connector, secret: 'another-secret-value' },
          signature,
          timestamp,
          Buffer.from(body),
          Number(timestamp),
        ),
      ),
    ).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_INVALID');
    expect(
      check(() => verifySlack(connector, signature, timestamp, Buffer.from(body), Number(timestamp) + 301)),
    ).toBe('AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED');
  });

  it('maps envelopes: challenge, people’s messages, ignores bot messages and other events', () => {
    expect(mapSlackEnvelope('sl', { type: 'url_verification', challenge: 'abc' })).toEqual({
      kind: 'challenge',
      challenge: 'abc',
    });
    const message = mapSlackEnvelope('sl', {
      type: 'event_callback',
      event_id: 'Ev1',
      event: { type: 'message', channel: 'C1', text: 'hi' },
    });
    expect(message).toMatchObject({
      kind: 'ingest',
      input: { connectorId: 'sl', eventId: 'Ev1', fields: { payload: { text: 'hi' } } },
    });
    expect(
      mapSlackEnvelope('sl', {
        type: 'event_callback',
        event_id: 'Ev2',
        event: { type: 'message', bot_id: 'B1', text: 'x' },
      }).kind,
    ).toBe('ignore');
    expect(
      mapSlackEnvelope('sl', { type: 'event_callback', event_id: 'Ev3', event: { type: 'reaction_added' } })
        .kind,
    ).toBe('ignore');
  });
});
