// helm 4.1 (with kubectl 1.35) against the simulated cluster.
import { helmSuite } from './helm-suite.ts';

helmSuite('v35');
