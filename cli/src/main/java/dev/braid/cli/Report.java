package dev.braid.cli;

import dev.braid.cli.ConformanceRunner.Outcome;
import dev.braid.cli.ConformanceRunner.Status;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The matrix of rules by transport, printed and written as Markdown and HTML. */
final class Report {
  private static final String ORDER = "LOHCDBNETMRFW";

  private final List<Outcome> outcomes;
  private final List<String> transports;
  private final Map<String, String> unavailable;

  Report(List<Outcome> outcomes, List<String> transports, Map<String, String> unavailable) {
    this.outcomes = outcomes;
    this.transports = transports;
    this.unavailable = unavailable;
  }

  boolean anyFailure() {
    return outcomes.stream().anyMatch(o -> o.status() == Status.FAIL);
  }

  /** rule → title, in spec order. */
  private Map<String, String> rules() {
    Map<String, String> titles = new TreeMap<>(Comparator.comparingInt((String r) -> ORDER.indexOf(r.charAt(0)))
        .thenComparingInt(r -> Integer.parseInt(r.substring(1))));
    for (Outcome o : outcomes) {
      if (o.rule().matches("[A-Z][0-9]+")) {
        String title = o.title().replaceFirst("^" + o.rule() + " ", "");
        titles.putIfAbsent(o.rule(), title);
      }
    }
    return titles;
  }

  /** How the rule is to be read: required, capability (skipped without it) or stochastic (seeded races). */
  String kind(String rule) {
    for (Outcome o : outcomes) {
      if (o.rule().equals(rule) && o.kind() != null && !o.kind().isEmpty()) {
        return o.kind();
      }
    }
    return "required";
  }

  /** One cell: PASS if every invocation passed, FAIL if any failed, SKIP if all were skipped. */
  String cell(String rule, String transport) {
    List<Outcome> os = new ArrayList<>();
    for (Outcome o : outcomes) {
      if (o.rule().equals(rule) && o.transport().equals(transport)) {
        os.add(o);
      }
    }
    if (os.isEmpty()) {
      return "-";
    }
    long fail = os.stream().filter(o -> o.status() == Status.FAIL).count();
    long pass = os.stream().filter(o -> o.status() == Status.PASS).count();
    if (fail > 0) {
      return "FAIL " + fail + "/" + os.size();
    }
    if (pass == 0) {
      return "skip";
    }
    return "pass " + pass + "/" + os.size();
  }

  void print(PrintStream out) {
    Map<String, String> rules = rules();
    int w = 14;
    StringBuilder head = new StringBuilder(String.format("%-5s %-64s %-10s", "rule", "", "kind"));
    for (String t : transports) {
      head.append(String.format(" %-" + w + "s", t));
    }
    out.println(head);
    for (Map.Entry<String, String> r : rules.entrySet()) {
      StringBuilder line = new StringBuilder(String.format("%-5s %-64.64s %-10s", r.getKey(), r.getValue(),
          kind(r.getKey())));
      for (String t : transports) {
        line.append(String.format(" %-" + w + "s", cell(r.getKey(), t)));
      }
      out.println(line);
    }
    out.println();
    for (String t : transports) {
      long pass = count(t, Status.PASS);
      long fail = count(t, Status.FAIL);
      long skip = count(t, Status.SKIP);
      out.printf("%-8s %d passed, %d failed, %d skipped%n", t, pass, fail, skip);
    }
    for (Map.Entry<String, String> u : unavailable.entrySet()) {
      out.printf("%-8s unavailable: %s%n", u.getKey(), u.getValue());
    }
    Set<String> notes = notes();
    if (!notes.isEmpty()) {
      out.println();
      notes.forEach(n -> out.println("  " + n));
    }
  }

  private long count(String transport, Status s) {
    return outcomes.stream().filter(o -> o.transport().equals(transport) && o.status() == s).count();
  }

  private Set<String> notes() {
    Set<String> notes = new LinkedHashSet<>();
    for (Outcome o : outcomes) {
      if (o.status() == Status.FAIL) {
        notes.add("FAIL " + o.transport() + " " + o.rule() + " [" + o.invocation() + "]: " + o.detail());
      } else if (o.status() == Status.SKIP) {
        notes.add("skip " + o.transport() + " " + o.rule() + ": " + o.detail());
      }
    }
    return notes;
  }

  void writeMarkdown(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("# Braid conformance matrix\n\n");
    sb.append("Rules are those of [SPEC.md](../SPEC.md); each runs from both ends (dialer opens, listener opens).\n\n");
    sb.append("Kinds: *required* (every transport), *capability* (skipped, with the reason, without the capability), "
        + "*stochastic* (seeded races and random runs: a failure prints its seed and replay command).\n\n");
    sb.append("| rule | | kind |");
    transports.forEach(t -> sb.append(' ').append(t).append(" |"));
    sb.append("\n|---|---|---|");
    transports.forEach(t -> sb.append("---|"));
    sb.append('\n');
    for (Map.Entry<String, String> r : rules().entrySet()) {
      sb.append("| ").append(r.getKey()).append(" | ").append(r.getValue().replace("|", "\\|")).append(" | ")
          .append(kind(r.getKey())).append(" |");
      for (String t : transports) {
        sb.append(' ').append(cell(r.getKey(), t)).append(" |");
      }
      sb.append('\n');
    }
    sb.append('\n');
    for (String t : transports) {
      sb.append("- **").append(t).append("**: ").append(count(t, Status.PASS)).append(" passed, ")
          .append(count(t, Status.FAIL)).append(" failed, ").append(count(t, Status.SKIP)).append(" skipped\n");
    }
    unavailable.forEach((t, why) -> sb.append("- **").append(t).append("**: unavailable: ").append(why).append('\n'));
    Set<String> notes = notes();
    if (!notes.isEmpty()) {
      sb.append("\n## Failures and skips\n\n");
      notes.forEach(n -> sb.append("- ").append(n).append('\n'));
    }
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  void writeHtml(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Braid conformance</title>"
        + "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        + ".pass{background:#d8f5d8}.FAIL{background:#f8c8c8}.skip{background:#eee}</style></head><body>"
        + "<h1>Braid conformance matrix</h1><table><tr><th>rule</th><th></th><th>kind</th>");
    transports.forEach(t -> sb.append("<th>").append(esc(t)).append("</th>"));
    sb.append("</tr>");
    for (Map.Entry<String, String> r : rules().entrySet()) {
      sb.append("<tr><td>").append(r.getKey()).append("</td><td>").append(esc(r.getValue())).append("</td><td>")
          .append(kind(r.getKey())).append("</td>");
      for (String t : transports) {
        String c = cell(r.getKey(), t);
        sb.append("<td class=\"").append(c.split(" ")[0]).append("\">").append(esc(c)).append("</td>");
      }
      sb.append("</tr>");
    }
    sb.append("</table><ul>");
    notes().forEach(n -> sb.append("<li>").append(esc(n)).append("</li>"));
    unavailable.forEach((t, why) -> sb.append("<li>").append(esc(t + " unavailable: " + why)).append("</li>"));
    sb.append("</ul></body></html>\n");
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  static Map<String, String> unavailableOf(List<dev.braid.spi.TransportProvider> providers) {
    Map<String, String> m = new LinkedHashMap<>();
    for (dev.braid.spi.TransportProvider p : providers) {
      Throwable c = p.unavailabilityCause();
      m.put(p.id(), c == null ? "no reason given" : String.valueOf(c.getMessage()));
    }
    return m;
  }
}
