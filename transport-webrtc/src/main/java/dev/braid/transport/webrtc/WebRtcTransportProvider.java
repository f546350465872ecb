package dev.braid.transport.webrtc;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import dev.braid.transport.webrtc.internal.NativeSupport;
import dev.braid.transport.webrtc.internal.WebRtcAddress;
import dev.braid.transport.webrtc.internal.WebRtcTransport;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;

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
  public static final String ID = WebRtcTransport.ID;
  /** Environment variable naming the address tests listen on (set by the network namespace wrapper). */
  public static final String TEST_ADDRESS_ENV = "BRAID_WEBRTC_TEST_ADDRESS";

  private static final Set<Capability> CAPABILITIES =
      Collections.unmodifiableSet(EnumSet.of(Capability.STOP_SENDING, Capability.RESET_CODES, Capability.OPENING_STATE));

  /** Creates the provider; never throws and loads nothing. */
  public WebRtcTransportProvider() {}

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<String> schemes() {
    return Set.of(ID);
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
   * libwebrtc gathers no loopback candidates, so tests need a non-loopback address, and tests may only
   * use addresses of a network namespace the test run created: the address in
   * {@value #TEST_ADDRESS_ENV} (environment variable or system property) when set, which the test
   * wrapper {@code src/test/netns/bin/java} does; otherwise the first IPv4 address in 10.203.0.0/16
   * (the wrapper's private range) of an interface that is up. Anything else (this machine's real
   * interfaces) is never returned.
   *
   * @throws IOException when there is no such address, saying how to set the namespace up
   */
  @Override
  public URI testListenAddress() throws IOException {
    String set = System.getProperty(TEST_ADDRESS_ENV, System.getenv(TEST_ADDRESS_ENV));
    if (set != null && !set.isBlank()) {
      return URI.create(ID + "://" + WebRtcAddress.hostPort(set.trim(), 0));
    }
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address && (b[0] & 0xff) == 10 && (b[1] & 0xff) == 203) {
          return URI.create(ID + "://" + a.getHostAddress() + ":0");
        }
      }
    }
    throw new IOException("webrtc: no test network namespace here. libwebrtc never uses loopback, and tests may not use "
        + "this machine's real interfaces: run the test JVM inside a namespace with a veth pair, as root (ip netns add NS; "
        + "ip link add H type veth peer name N; ip link set N netns NS; ip -n NS addr add 10.203.0.2/30 dev N; "
        + "ip -n NS link set lo up; ip -n NS link set N up; ip netns exec NS java ...), as "
        + "transport-webrtc/src/test/netns/bin/java does, or set " + TEST_ADDRESS_ENV + " to the namespace's address");
  }

  @Override
  public Transport create(TransportOptions options) throws IOException {
    Throwable cause = NativeSupport.unavailabilityCause();
    if (cause != null) {
      throw new IOException("webrtc: the transport is unavailable: " + cause.getMessage(), cause);
    }
    return new WebRtcTransport(options, CAPABILITIES);
  }

  /**
   * webrtc-java (its Java jar; the native one, classifier {@code linux-x86_64}, is the same release) and Netty, which
   * serves the HTTP signaling. Read from the jars: the native library is not loaded.
   */
  @Override
  public Map<String, String> libraryVersions() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("webrtc-java", TransportProvider.mavenVersion(dev.onvoid.webrtc.RTCConfiguration.class,
        "dev.onvoid.webrtc", "webrtc-java"));
    v.put("netty-codec-http", TransportProvider.mavenVersion(io.netty.handler.codec.http.HttpObject.class,
        "io.netty", "netty-codec-http"));
    return v;
  }
}
