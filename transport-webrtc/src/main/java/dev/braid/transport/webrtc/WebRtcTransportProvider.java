package dev.braid.transport.webrtc;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import dev.braid.transport.webrtc.internal.NativeSupport;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The {@code webrtc} transport provider: WebRTC data channels via webrtc-java 0.14.0, signaling over
 * HTTP ({@code webrtc://HOST:PORT}). Registered for {@link java.util.ServiceLoader} both in
 * {@code module-info} and in {@code META-INF/services}.
 *
 * <p>The constructor does nothing. {@link #isAvailable()} loads webrtc-java's native library on first
 * call (loading creates no native object, so it cannot abort the JVM); when that fails, e.g. because
 * {@code libpulse0} is missing, the provider is unavailable and {@link #unavailabilityCause()} says why
 * and what to install.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class WebRtcTransportProvider implements TransportProvider {
  /** The provider id and URI scheme. */
  public static final String ID = "webrtc";
  /** Environment variable naming the address tests listen on (set by the network namespace wrapper). */
  public static final String TEST_ADDRESS_ENV = "BRAID_WEBRTC_TEST_ADDRESS";

  static final Set<Capability> CAPABILITIES =
      Collections.unmodifiableSet(EnumSet.of(Capability.STOP_SENDING, Capability.RESET_CODES, Capability.OPENING_STATE));

  /** Creates the provider; never throws and loads nothing. */
  public WebRtcTransportProvider() {}

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<String> schemes() {
    return Set.of("webrtc");
  }

  @Override
  public boolean isAvailable() {
    return NativeSupport.unavailabilityCause() == null;
  }

  @Override
  public Throwable unavailabilityCause() {
    return NativeSupport.unavailabilityCause();
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  /**
   * libwebrtc gathers no loopback candidates, so tests need a non-loopback address: the one in
   * {@value #TEST_ADDRESS_ENV} when set (the test network namespace's veth address), else the first
   * non-loopback IPv4 address of an interface that is up (inside a test namespace that is its veth).
   */
  @Override
  public URI testListenAddress() throws IOException {
    String env = System.getenv(TEST_ADDRESS_ENV);
    if (env != null && !env.isBlank()) {
      return URI.create("webrtc://" + WebRtcTransport.hostPort(env.trim(), 0));
    }
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
          return URI.create("webrtc://" + a.getHostAddress() + ":0");
        }
      }
    }
    throw new IOException("webrtc: no non-loopback IPv4 address here, and libwebrtc never uses loopback. Run the test "
        + "JVM inside a network namespace with a veth pair (as root: ip netns add NS; ip link add H type veth peer name N; "
        + "ip link set N netns NS; ip -n NS addr add 10.203.0.2/30 dev N; ip -n NS link set lo up; ip -n NS link set N up; "
        + "ip netns exec NS java ...), as transport-webrtc/src/test/netns/bin/java does");
  }

  @Override
  public Transport create(TransportOptions options) throws IOException {
    Throwable cause = NativeSupport.unavailabilityCause();
    if (cause != null) {
      throw new IOException("webrtc: the transport is unavailable: " + cause.getMessage(), cause);
    }
    return new WebRtcTransport(options);
  }
}
