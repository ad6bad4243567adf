// The standard SDK environment for the local AWS, and nothing from the developer's own ~/.aws:
// what the CLI is run with in tests (test/cli/support.ts) and in the demo.
import type { LocalAws } from '#local-aws/index';

/** `aws`: the local AWS, or anything that names its endpoint the same way (a test session). */
export function localEnv(aws: Pick<LocalAws, 'env'>): Record<string, string> {
  return {
    ...aws.env,
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: '/nonexistent/token-rotation-cli-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/token-rotation-cli-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
