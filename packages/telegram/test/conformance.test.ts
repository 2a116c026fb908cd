/**
 * The conformance suite against the Telegram connector and the fake Telegram: the same scenarios
 * every connector package runs against its own platform, once with long polling and once with
 * the webhook.
 */
import { runConformanceSuite } from '@parley/testkit/conformance';
import { telegramConformanceSubject } from '../src/testing/index.js';

runConformanceSuite(telegramConformanceSubject({ mode: 'polling' }));
runConformanceSuite(telegramConformanceSubject({ mode: 'webhook' }));
