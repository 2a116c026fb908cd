/**
 * The conformance suite against the Slack connector and the Slack fake, over Socket Mode: the
 * same scenarios every connector package runs. (The suite's subject cannot learn Parley's URL
 * before Parley starts, which http mode needs for the Request URL; `http-mode.test.ts` covers
 * http mode through the same harness.)
 */
import { runConformanceSuite } from '@parley/testkit/conformance';
import { slackConformanceSubject } from '../src/testing/index.js';

runConformanceSuite(slackConformanceSubject({ mode: 'socket' }));
