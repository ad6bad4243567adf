// Test-only rotation function: the deployed handler, whose Secrets Manager client loses the answer
// to the first UpdateSecretVersionStage that moves AWSCURRENT (the service carries it out, then the
// call times out), so finishSecret fails with AWSCURRENT already moved. One fault per container.
import { secretsManagerClient } from '#commons/clients';
import { STAGE } from '#domain/vocabulary';
import { injectFaults } from './sdk-faults.ts';

injectFaults(secretsManagerClient()).fail({
  command: 'UpdateSecretVersionStageCommand',
  when: (input) => input.VersionStage === STAGE.current,
  kind: 'timeout-after',
});

export { handler } from '#handlers/rotation';
