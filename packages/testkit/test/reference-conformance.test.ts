/**
 * The conformance suite against the reference connector and its platform fake: the same
 * scenarios every connector package runs against its own platform.
 */
import { runConformanceSuite } from '../src/conformance/index.js';
import { referenceConformanceSubject } from '../src/reference/index.js';

runConformanceSuite(referenceConformanceSubject());
