package dev.braid.spi;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * A transport plugin, found at run time by {@link java.util.ServiceLoader}. Register it both ways:
 * {@code provides dev.braid.spi.TransportProvider with ...} in {@code module-info.java}, and a line in
 * {@code META-INF/services/dev.braid.spi.TransportProvider} for the class path.
 *
 * <p><b>Contract.</b> The public no-argument constructor never throws and does no I/O: a transport that
 * cannot run here (a missing native library, say) reports it through {@link #isAvailable()} and
 * {@link #unavailabilityCause()} instead. Implementations are thread-safe.
 *
 * <p><b>Threads.</b> A transport may complete futures and call the base classes' notifications on its own
 * threads, but every future it hands to an application must be a {@link BraidFuture} (use
 * {@link BraidFuture#relay}) so that application continuations never run on those threads; the base classes
 * ({@link AbstractConnection}, {@link AbstractMuxedStream}, {@link AcceptQueue}) already do so. Their class
 * comments say which thread calls each hook, which hooks may re-enter, and that no hook may block.
 */
public interface TransportProvider {

  /** A unique, stable, lower-case id, e.g. {@code "tcp"}. Two providers with one id are rejected. */
  String id();

  /** The URI schemes this provider dials and listens on, e.g. {@code tcp} and {@code tcp+tls}. */
  Set<String> schemes();

  /** Higher wins when two available providers claim one scheme (default 0). */
  default int priority() {
    return 0;
  }

  /** Whether this transport can run here. */
  boolean isAvailable();

  /**
   * Why this transport cannot run here, with what would fix it (e.g. the package to install);
   * {@code null} when {@link #isAvailable()}.
   */
  Throwable unavailabilityCause();

  /** What this transport can and cannot do. */
  Set<Capability> capabilities();

  /**
   * An address on this machine where a test may listen with this transport, with port 0: loopback for
   * most transports; for one that cannot use loopback (WebRTC), an address of this machine's own test
   * network namespace. Used by the conformance kit's generic fixture.
   *
   * @throws IOException if no such address exists here, saying what to set up
   */
  URI testListenAddress() throws IOException;

  /**
   * Creates a transport instance that owns its own threads and resources until closed.
   *
   * @throws IOException if the transport cannot start
   */
  Transport create(TransportOptions options) throws IOException;

  /**
   * What this implementation is built on, for reports (the conformance report's header, bug reports): each library
   * that carries the protocol, by name, with the version found at run time, in the order to show, e.g.
   * {@code {"netty-codec-classes-quic": "4.2.18.Final", "netty-codec-native-quic": "4.2.18.Final"}}. A transport
   * shipped outside Braid names its own artifact too. A version that cannot be found reads {@code "unknown"}.
   *
   * <p>Cheap and side-effect free like {@link #id()}: it never loads native code, opens nothing and never throws (it
   * is called on transports that are unavailable here too). The default, for providers written before this method,
   * is an empty map: nothing known.
   *
   * @return library name to version; never null
   */
  default Map<String, String> libraryVersions() {
    return Map.of();
  }

  /**
   * The version of the Maven artifact {@code groupId:artifactId} that {@code fromClass} was loaded from, read from the
   * {@code META-INF/maven/GROUP/ARTIFACT/pom.properties} that Maven packs into the artifact's jar (and that a shaded
   * jar keeps), next to the class itself; otherwise its package's {@code Implementation-Version}. A helper for
   * {@link #libraryVersions()}. Never throws: what it cannot find it says in the result.
   *
   * @param fromClass a class of that artifact, which says which jar on the class or module path to read
   * @return the version, or {@code "unknown"} with the reason (e.g. {@code "unknown (not in a jar: file:/...)"})
   */
  static String mavenVersion(Class<?> fromClass, String groupId, String artifactId) {
    String self = "/" + fromClass.getName().replace('.', '/') + ".class";
    URL classFile = fromClass.getResource(self);
    String where = classFile == null ? "(no class file)" : classFile.toString();
    String why;
    if (where.startsWith("jar:") && where.endsWith("!" + self)) {
      String jar = where.substring(0, where.length() - self.length());
      String entry = "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
      try (InputStream in = new URL(jar + entry).openStream()) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        why = v == null || v.isBlank() ? "no version in " + jar + entry : null;
        if (why == null) {
          return v.trim();
        }
      } catch (java.io.FileNotFoundException absent) {
        why = "no " + entry.substring(1) + " in " + jarFile(jar);
      } catch (IOException | RuntimeException unreadable) {
        why = "cannot read " + jarFile(jar) + ": " + unreadable;
      }
    } else {
      why = "not in a jar: " + where.replaceFirst("!?" + java.util.regex.Pattern.quote(self) + "$", "");
    }
    Package pkg = fromClass.getPackage();
    String manifest = pkg == null ? null : pkg.getImplementationVersion();
    return manifest != null ? manifest : "unknown (" + why + ")";
  }

  /** {@code jar:file:/a/b.jar!} → {@code file:/a/b.jar}. */
  private static String jarFile(String jarUrl) {
    String s = jarUrl.startsWith("jar:") ? jarUrl.substring(4) : jarUrl;
    return s.endsWith("!") ? s.substring(0, s.length() - 1) : s;
  }
}
