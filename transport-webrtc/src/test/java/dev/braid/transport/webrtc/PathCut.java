package dev.braid.transport.webrtc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Cuts the UDP path of WebRTC connections inside the test network namespace with an nftables packet filter, so that
 * a connection can be killed without a word: packets already sent vanish on the way in (the sender's {@code sendto}
 * still succeeds, as on a pulled cable; nothing like an ICMP error or EPERM tells either end).
 *
 * <p>One nftables table per instance ({@code inet braid_kill_<pid>_<n>}), created on the first cut and deleted by
 * {@link #close()}; one base chain per cut on the {@code input} hook (both peers run in one JVM on the namespace's
 * address, so every packet between them is delivered locally and passes that hook), with one counting rule per
 * direction between the two ICE ports and catch-all rules for anything else to or from the victim's ports. Every
 * rule counts what it drops: {@link Cut#counters()} shows what the two ends sent after the cut.
 *
 * <p>Needs {@code nft} (Debian: {@code apt-get install -y nftables}) and root (CAP_NET_ADMIN) in the namespace; a cut
 * that cannot be set fails with {@link IllegalStateException} saying why, never silently.
 *
 * <p><b>Thread safety.</b> Not thread-safe (the kit uses one fixture per test, from one thread).
 */
final class PathCut implements AutoCloseable {
  private static final AtomicInteger TABLES = new AtomicInteger();
  private static final Pattern RULE = Pattern.compile("counter packets (\\d+) bytes (\\d+).*comment \"([^\"]+)\"");
  /** Rule comments: the two directions of the cut pair, then the catch-alls. */
  static final String VICTIM_TO_PEER = "victim-to-peer";
  static final String PEER_TO_VICTIM = "peer-to-victim";
  static final String FROM_VICTIM_OTHER = "from-victim-other";
  static final String TO_VICTIM_OTHER = "to-victim-other";

  private final String table = "braid_kill_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
  private final List<Cut> cuts = new ArrayList<>();
  private boolean tableCreated;
  private int chains;

  /** One cut path: the chain holding its rules. */
  final class Cut {
    final String chain;
    final int victimPort;
    final int peerPort;
    private boolean removed;
    private Map<String, long[]> lastCounters = Map.of();

    Cut(String chain, int victimPort, int peerPort) {
      this.chain = chain;
      this.victimPort = victimPort;
      this.peerPort = peerPort;
    }

    /** Dropped packets and bytes per rule comment (the last values read, once the cut is removed). */
    Map<String, long[]> counters() {
      if (!removed) {
        lastCounters = readCounters(chain);
      }
      return lastCounters;
    }

    /** Reads the counters a last time and deletes the chain; idempotent. */
    void remove() {
      if (removed) {
        return;
      }
      lastCounters = readCounters(chain);
      removed = true;
      run("flush chain inet " + table + " " + chain + "\ndelete chain inet " + table + " " + chain + "\n");
    }

    boolean removed() {
      return removed;
    }

    @Override
    public String toString() {
      return "UDP port " + victimPort + " <-> " + peerPort + " (nft chain inet " + table + " " + chain + ")";
    }
  }

  /**
   * Drops, from now on, every UDP packet between {@code victimPort} and {@code peerPort} (counted per direction) and
   * every other UDP packet to or from any of {@code victimPorts}. The rules are in place when this returns.
   *
   * @throws IllegalStateException when the filter cannot be set (no nft, no privileges, not in the namespace)
   */
  Cut cut(int victimPort, int peerPort, Set<Integer> victimPorts) {
    if (victimPort <= 0 || victimPort > 65535 || peerPort <= 0 || peerPort > 65535) {
      throw new IllegalStateException("cannot cut UDP ports " + victimPort + " <-> " + peerPort + ": not ports");
    }
    Set<Integer> all = new TreeSet<>(victimPorts);
    all.add(victimPort);
    String set = all.stream().map(String::valueOf).collect(Collectors.joining(", ", "{ ", " }"));
    String chain = "cut" + (++chains);
    StringBuilder script = new StringBuilder();
    if (!tableCreated) {
      script.append("add table inet ").append(table).append('\n');
    }
    script.append("add chain inet ").append(table).append(' ').append(chain)
        .append(" { type filter hook input priority -300; policy accept; }\n");
    String rule = "add rule inet " + table + " " + chain + " ";
    script.append(rule).append("udp sport ").append(victimPort).append(" udp dport ").append(peerPort)
        .append(" counter drop comment \"").append(VICTIM_TO_PEER).append("\"\n");
    script.append(rule).append("udp sport ").append(peerPort).append(" udp dport ").append(victimPort)
        .append(" counter drop comment \"").append(PEER_TO_VICTIM).append("\"\n");
    script.append(rule).append("udp sport ").append(set).append(" counter drop comment \"").append(FROM_VICTIM_OTHER)
        .append("\"\n");
    script.append(rule).append("udp dport ").append(set).append(" counter drop comment \"").append(TO_VICTIM_OTHER)
        .append("\"\n");
    run(script.toString());
    tableCreated = true;
    Cut c = new Cut(chain, victimPort, peerPort);
    Map<String, long[]> now = readCounters(chain); // proves the rules are there
    if (!now.keySet().containsAll(List.of(VICTIM_TO_PEER, PEER_TO_VICTIM, FROM_VICTIM_OTHER, TO_VICTIM_OTHER))) {
      throw new IllegalStateException("the nftables rules of " + c + " are not in place after nft accepted them: "
          + now.keySet());
    }
    cuts.add(c);
    return c;
  }

  /** Removes every cut and the table. */
  @Override
  public void close() {
    if (!tableCreated) {
      return;
    }
    for (Cut c : cuts) {
      try {
        c.remove();
      } catch (IllegalStateException e) {
        // the table goes below anyway
      }
    }
    tableCreated = false;
    run("delete table inet " + table + "\n");
  }

  private Map<String, long[]> readCounters(String chain) {
    String out = run(null, "list", "chain", "inet", table, chain);
    Map<String, long[]> counters = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      Matcher m = RULE.matcher(line);
      if (m.find()) {
        counters.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      }
    }
    return counters;
  }

  private static String run(String script) {
    return run(script, "-f", "-");
  }

  /** Runs nft with {@code args}, feeding it {@code script} (may be null); returns its output or throws saying why. */
  private static String run(String script, String... args) {
    String nft = nft();
    List<String> command = new ArrayList<>();
    command.add(nft);
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (OutputStream in = p.getOutputStream()) {
        if (script != null) {
          in.write(script.getBytes(StandardCharsets.UTF_8));
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (InputStream o = p.getInputStream()) {
        o.transferTo(out);
      }
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("nft " + String.join(" ", args) + " did not finish within 10 s");
      }
      String text = out.toString(StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException("cannot set the packet filter that kills a WebRTC connection silently: nft "
            + String.join(" ", args) + " exited with " + p.exitValue() + ": " + text.strip()
            + (script != null ? "\nscript:\n" + script : "") + "\n(needs root or CAP_NET_ADMIN inside the test network "
            + "namespace)");
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run nft (" + nft + "), needed to kill a WebRTC connection silently: " + e
          + "; install it with apt-get install -y nftables", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running nft", e);
    }
  }

  /** The nft executable: on PATH, or in /usr/sbin or /sbin (root's PATH may lack them). */
  static String nft() {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
    }
    dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/local/sbin"));
    for (String d : dirs) {
      if (d.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(d, "nft");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new IllegalStateException("nft (nftables) is not installed, so the WebRTC fixture cannot kill a connection "
        + "without a word (it cuts the connection's UDP path in the test namespace with a packet filter): "
        + "apt-get install -y nftables");
  }
}
