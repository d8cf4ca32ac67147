import { main } from '../lib/cli.ts';
import { runDoctor } from '../lib/doctor/doctor.ts';
import { DOCTOR_SPEC } from '../lib/doctor/spec.ts';

await main(DOCTOR_SPEC, runDoctor);
