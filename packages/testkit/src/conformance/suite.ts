/**
 * `runConformanceSuite(subject)`: the scenarios every Parley connector must pass (DESIGN §9),
 * declared as vitest tests. Each scenario runs the real pipeline in a fresh {@link startHarness};
 * scenarios that the connector's declared capabilities rule out are skipped, and so are those
 * its platform driver cannot drive.
 */
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';
import { eventually, openConversation, waitForReceipt } from './helpers.js';
import { messagingScenarios } from './scenarios-messaging.js';
import { reliabilityScenarios } from './scenarios-reliability.js';
import type { ConformanceSubject } from './types.js';

export interface ConformanceSuiteOptions {
  harness?: HarnessOptions;
}

/**
 * Declares the conformance tests for one connector. Call it at the top level of a test file.
 *
 * @example
 * // packages/telegram/test/conformance.test.ts
 * import { runConformanceSuite } from '@parley/testkit/conformance';
 * import { telegramConformanceSubject } from '../src/testing/index.js';
 * runConformanceSuite(telegramConformanceSubject());
 */
export function runConformanceSuite<Options>(
  subject: ConformanceSubject<Options>,
  options: ConformanceSuiteOptions = {},
): void {
  const { definition } = subject;
  const { capabilities } = definition;

  describe(`${subject.name} connector conformance`, () => {
    describe('definition', () => {
      it('has a kebab-case name and a complete capabilities declaration', () => {
        expect(definition.name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
        expect(capabilities.inbound.length).toBeGreaterThan(0);
        for (const flag of [
          capabilities.attachments.inbound,
          capabilities.attachments.outbound,
          capabilities.typing.inbound,
          capabilities.typing.outbound,
          capabilities.quickReplies,
          capabilities.cards,
          capabilities.edits,
          capabilities.readReceipts,
        ]) {
          expect(typeof flag).toBe('boolean');
        }
      });
    });

    describe('through the real pipeline', () => {
      let current: Harness | undefined;
      const harness = (): Harness => {
        if (!current) throw new Error('The harness did not start');
        return current;
      };

      beforeEach(async () => {
        current = await startHarness(subject, options.harness);
      });

      afterEach(async () => {
        const finished = current;
        current = undefined;
        if (!finished) return;
        await finished.close();
        // Checked after stop, so shutdown logging is covered too.
        const leaked = finished.secrets.filter((secret) => finished.logs().some((line) => line.includes(secret)));
        expect(leaked, 'secret option values must never reach the logs').toEqual([]);
      });

      it('has the methods its capabilities promise, starts idempotently and reports ready', async () => {
        const h = harness();
        const connector = h.parley.connector(h.connectorId)?.connector;
        expect(connector).toBeDefined();
        if (!connector) return;
        if (capabilities.typing.outbound) expect(typeof connector.sendTyping).toBe('function');
        if (capabilities.attachments.inbound) expect(typeof connector.openMedia).toBe('function');
        if (capabilities.inbound.includes('webhook')) expect(typeof connector.webhook).toBe('function');

        await connector.start();
        await eventually(async () => {
          const response = await request(`${h.url}/readyz`);
          await response.body.dump();
          return response.statusCode === 200;
        }, 'GET /readyz to answer 200');
        // Still working after the second start().
        const conversationId = await openConversation(h, 'trent');
        const delivery = await h.emulator.agent.sendText(conversationId, 'still here');
        expect((await waitForReceipt(h, delivery.messageId)).body.status).toBe('Delivered');
      }, 20_000);

      messagingScenarios(harness, capabilities);
      reliabilityScenarios(harness);
    });
  });
}
