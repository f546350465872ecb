package dev.braid.cli;

import dev.braid.Capability;
import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.io.InputStream;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a conformance run tested, for the head of its report: when, which Braid, which JVM on which OS, the command,
 * and for every column of the matrix the providers behind it with their library versions and capabilities.
 *
 * @param started when the run started, in this machine's time zone
 * @param braidVersion the version of Braid's command line (every Braid artifact has the same one, aligned by the BOM)
 * @param jvm the JVM's vendor, name and version
 * @param os the operating system, its version and architecture, and the number of cores
 * @param command the arguments the run was started with
 * @param columns one entry per column of the matrix, in order
 */
record RunInfo(ZonedDateTime started, String braidVersion, String jvm, String os, String command,
    List<Column> columns) {

  /**
   * One column: one provider, or a dialer and a listener provider (a cross-implementation pair).
   *
   * @param id the column's name in the matrix
   * @param providers the provider, or the dialer's and the listener's
   */
  record Column(String id, List<Provider> providers) {}

  /**
   * One provider as the run found it.
   *
   * @param id its id
   * @param implementation its class
   * @param libraries {@link TransportProvider#libraryVersions()}
   * @param capabilities what it declares
   * @param priority its priority for the schemes it claims
   */
  record Provider(String id, String implementation, Map<String, String> libraries, Set<Capability> capabilities,
      int priority) {
    static Provider of(TransportProvider p) {
      Map<String, String> libraries;
      try {
        libraries = new LinkedHashMap<>(p.libraryVersions());
      } catch (RuntimeException | LinkageError e) {
        // The SPI says it never throws; a provider that does still gets its row, saying what happened.
        libraries = Map.of("(libraryVersions() threw)", e.toString());
      }
      Set<Capability> caps;
      try {
        caps = new TreeSet<>(p.capabilities());
      } catch (RuntimeException | LinkageError e) {
        throw new IllegalStateException("provider '" + p.id() + "' cannot say its capabilities: " + e, e);
      }
      return new Provider(p.id(), p.getClass().getName(), libraries, caps, p.priority());
    }
  }

  /** A run started at {@code started} with {@code args}, testing {@code subjects}. */
  static RunInfo of(ZonedDateTime started, List<String> args, List<KitSubject> subjects) {
    List<Column> columns = new ArrayList<>();
    for (KitSubject s : subjects) {
      columns.add(new Column(s.id(), s.isPair() ? List.of(Provider.of(s.dialer()), Provider.of(s.listener()))
          : List.of(Provider.of(s.listener()))));
    }
    Runtime.Version v = Runtime.version();
    String jvm = System.getProperty("java.vendor", "?") + " " + System.getProperty("java.vm.name", "?") + " "
        + System.getProperty("java.runtime.version", v.toString());
    String os = System.getProperty("os.name", "?") + " " + System.getProperty("os.version", "?") + " "
        + System.getProperty("os.arch", "?") + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    return new RunInfo(started, currentBraidVersion(), jvm, os,
        extraClassPath() + "bin/braid " + String.join(" ", args), List.copyOf(columns));
  }

  /**
   * {@code BRAID_CLASSPATH=...} and a space when bin/braid was given extra jars (a third-party transport), else empty:
   * a command that repeats the run needs them too.
   */
  static String extraClassPath() {
    String extra = System.getenv("BRAID_CLASSPATH");
    return extra == null || extra.isBlank() ? "" : "BRAID_CLASSPATH=" + extra + " ";
  }

  /** The version this command line was built as (a resource Maven fills in), or "unknown" with the reason. */
  static String currentBraidVersion() {
    try (InputStream in = RunInfo.class.getResourceAsStream("braid.properties")) {
      if (in == null) {
        return "unknown (no dev/braid/cli/braid.properties: the command line was not built by Maven)";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown (braid.properties has no version)");
    } catch (IOException e) {
      return "unknown (braid.properties unreadable: " + e + ")";
    }
  }
}
