// helm 3.18 (with kubectl 1.33) against the simulated cluster.
import { helmSuite } from './helm-suite.ts';

helmSuite('v33');
