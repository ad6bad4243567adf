// Registers aws-sdk-client-mock's matchers (toHaveReceivedCommand…) with their types.
import 'aws-sdk-client-mock-vitest/extend';
