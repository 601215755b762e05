package ducke.relay;

import ducke.core.cluster.CallDirectory;

import java.time.Duration;

/**
 * What the sideband of a WebRTC call needs besides a relayed session's: the provider's calls
 * endpoint (hang-ups), how long an attachment may take, and the cluster's directory of calls.
 */
record CallContext(ProviderCalls provider, Duration attachTimeout, CallDirectory directory) {
}
