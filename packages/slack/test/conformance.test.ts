/**
 * The conformance suite against the Slack connector and the Slack fake: the same scenarios every
 * connector package runs, once over Socket Mode and once over http (the Events API posting to
 * the harness's webhook URL, the fake's Request URL).
 */
import { runConformanceSuite } from '@parley/testkit/conformance';
import { slackConformanceSubject } from '../src/testing/index.js';

runConformanceSuite(slackConformanceSubject({ mode: 'socket' }));
runConformanceSuite(slackConformanceSubject({ mode: 'http' }));
