package dev.braid.transport.quic.netty.internal;

import java.util.Locale;

/**
 * Whether Netty's QUIC codec can run here, checked once: its classes, its native library (quiche and BoringSSL, built
 * for Linux x86_64 in {@code netty-codec-native-quic}), and the internals Braid uses ({@link NettyInternals}). The first
 * check loads the library, which Netty extracts into {@code java.io.tmpdir} (a directory mounted {@code noexec} breaks
 * it: set {@code io.netty.native.workdir}).
 *
 * <p><b>Thread safety.</b> Thread-safe; the result is computed at most a few times and then kept.
 */
public final class NativeSupport {
  private static final Object NONE = new Object();
  private static volatile Object result; // NONE when available, else the Throwable

  private NativeSupport() {}

  /** Why the Netty QUIC transport cannot run here, with what would fix it; null when it can. */
  public static Throwable unavailabilityCause() {
    Object r = result;
    if (r == null) {
      Throwable why = check();
      result = r = why == null ? NONE : why;
    }
    return r == NONE ? null : (Throwable) r;
  }

  private static Throwable check() {
    try {
      Class.forName("io.netty.handler.codec.quic.Quic", false, NativeSupport.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return new IllegalStateException("Netty's QUIC codec is not on the class or module path: add "
          + "io.netty:netty-codec-classes-quic and io.netty:netty-codec-native-quic (classifier linux-x86_64)", e);
    }
    io.netty.util.Version nativeQuic = io.netty.util.Version.identify(NativeSupport.class.getClassLoader())
        .get("netty-codec-native-quic");
    Throwable old = tooOld(nativeQuic == null ? null : nativeQuic.artifactVersion());
    if (old != null) {
      return old;
    }
    String os = System.getProperty("os.name", "?").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "?").toLowerCase(Locale.ROOT);
    try {
      if (!QuicProbe.available()) {
        Throwable cause = QuicProbe.cause();
        return new IllegalStateException("Netty's QUIC native library (quiche) does not load on " + os + "/" + arch
            + ": " + cause + ". Braid bundles it for linux-x86_64 (io.netty:netty-codec-native-quic, classifier "
            + "linux-x86_64); java.io.tmpdir must allow executing the extracted library. The kwik transport (provider "
            + "id quic) is pure Java and runs everywhere", cause);
      }
    } catch (LinkageError e) {
      return new IllegalStateException("Netty's QUIC codec cannot start on " + os + "/" + arch + ": " + e, e);
    }
    Throwable internals = NettyInternals.failure();
    if (internals != null) {
      Module netty = io.netty.handler.codec.quic.Quic.class.getModule();
      Module self = NativeSupport.class.getModule();
      if (netty.isNamed() && !netty.isOpen("io.netty.handler.codec.quic", self)) {
        return new IllegalStateException("Netty's QUIC package is not open to " + self.getName() + ": run with "
            + "--add-opens io.netty.codec.classes.quic/io.netty.handler.codec.quic=" + self.getName()
            + " (Braid sends 62-bit QUIC error codes through quiche's own binding)", internals);
      }
      return internals;
    }
    return null;
  }

  /**
   * Why a {@code netty-codec-native-quic} of this version must not be used, or null: before 4.2.18 it bundles a quiche
   * (commit 4f34747) that never sends a lost STOP_SENDING again (README, "Why Netty 4.2.18 and no older"). A version
   * that is absent or does not parse is not refused.
   */
  static Throwable tooOld(String version) {
    if (version == null) {
      return null;
    }
    String[] parts = version.split("[.-]");
    int[] have = new int[3];
    try {
      for (int i = 0; i < 3; i++) {
        have[i] = Integer.parseInt(parts[i]);
      }
    } catch (RuntimeException unparsable) {
      return null;
    }
    int[] need = {4, 2, 18};
    for (int i = 0; i < 3; i++) {
      if (have[i] != need[i]) {
        return have[i] > need[i] ? null : new IllegalStateException("netty-codec-native-quic "
            + version + " bundles a quiche that never sends a lost STOP_SENDING again: a peer "
            + "writing while this end calls closeRead() can then wait for its idle timeout. Braid's QUIC-on-Netty "
            + "transport needs Netty 4.2.18 or newer (the kwik transport, provider id quic, is not affected)");
      }
    }
    return null;
  }

  /**
   * The version of {@code netty-codec-native-quic} on the path, read from its Maven metadata (that jar holds the native
   * library and no class to start from), without loading the library; "unknown" with the reason when absent.
   */
  public static String nativeArtifactVersion() {
    String entry = "META-INF/maven/io.netty/netty-codec-native-quic/pom.properties";
    ClassLoader loader = NativeSupport.class.getClassLoader();
    java.net.URL url = loader == null ? ClassLoader.getSystemResource(entry) : loader.getResource(entry);
    if (url == null) {
      return "unknown (no " + entry + " on the class path)";
    }
    try (java.io.InputStream in = url.openStream()) {
      java.util.Properties p = new java.util.Properties();
      p.load(in);
      return p.getProperty("version", "unknown (no version in " + url + ")");
    } catch (java.io.IOException e) {
      return "unknown (cannot read " + url + ": " + e + ")";
    }
  }

  /** Touches {@code Quic} only when called. */
  private static final class QuicProbe {
    static boolean available() {
      return io.netty.handler.codec.quic.Quic.isAvailable();
    }

    static Throwable cause() {
      return io.netty.handler.codec.quic.Quic.unavailabilityCause();
    }
  }
}
