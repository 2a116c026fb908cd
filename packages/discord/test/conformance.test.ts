/**
 * The Discord connector against the connector conformance suite, through the real pipeline, with
 * the real discord.js client talking to the fake Discord.
 */
import { runConformanceSuite } from '@parley/testkit/conformance';
import { discordConformanceSubject } from '../src/testing/index.js';

runConformanceSuite(discordConformanceSubject());
