// The credential chain the deployed functions need, and nothing more: Lambda hands a function its
// role's credentials in environment variables. The bundles alias the SDK's default chain
// (@aws-sdk/credential-provider-node: SSO, shared files, web identity, process, IMDS, with the
// SSO and STS clients they bring) to this module (infra/suite-functions.ts); tests, the CLI and
// the local AWS run unbundled and keep the default chain.

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Reads the role's credentials from the environment, as the SDK's `fromEnv` does. */
export const defaultProvider = (_init?: unknown) => async (): Promise<Credentials> => {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(
      new Error(
        'no AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, where Lambda puts the function role’s credentials (this bundle reads no other source)',
      ),
      { name: 'CredentialsProviderError', tryNextLink: false },
    );
  }
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  const expiry = process.env.AWS_CREDENTIAL_EXPIRATION;
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken && { sessionToken }),
    ...(expiry && { expiration: new Date(expiry) }),
  };
};
