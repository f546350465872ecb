package dev.braid.cli;

import dev.braid.Capability;
import dev.braid.cli.ConformanceRunner.Outcome;
import dev.braid.cli.ConformanceRunner.Status;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The matrix of rules by transport, printed and written as Markdown and HTML. The HTML report is one self-contained
 * file (inline CSS, no script, nothing fetched): what was tested first (date, Braid, JVM, OS, command, each column's
 * providers with their library versions and capabilities), then every rule with its time per transport, and under
 * each rule that did not simply pass, why: a failure's message, seed and replay command, a skip's reason.
 */
final class Report {
  private static final String ORDER = "LOHCDBNETMRFW";

  private final List<Outcome> outcomes;
  private final List<String> transports;
  private final Map<String, String> unavailable;
  private final RunInfo info;

  Report(List<Outcome> outcomes, List<String> transports, Map<String, String> unavailable) {
    this(outcomes, transports, unavailable, null);
  }

  /** @param info what was tested, for the head of the written reports; null when only printed */
  Report(List<Outcome> outcomes, List<String> transports, Map<String, String> unavailable, RunInfo info) {
    this.outcomes = outcomes;
    this.transports = transports;
    this.unavailable = unavailable;
    this.info = info;
  }

  boolean anyFailure() {
    return outcomes.stream().anyMatch(o -> o.status() == Status.FAIL);
  }

  /** rule → title, in spec order (rules first, then anything else, such as a run that ended badly). */
  private Map<String, String> rules() {
    Map<String, String> titles = new TreeMap<>(Comparator.comparingInt((String r) -> order(r))
        .thenComparingInt(Report::number).thenComparing(r -> r));
    for (Outcome o : outcomes) {
      String title = o.title().replaceFirst("^" + java.util.regex.Pattern.quote(o.rule()) + " ", "");
      titles.putIfAbsent(o.rule(), title);
    }
    return titles;
  }

  private static int order(String rule) {
    int i = rule.matches("[A-Z][0-9]+") ? ORDER.indexOf(rule.charAt(0)) : -1;
    return i < 0 ? ORDER.length() : i;
  }

  private static int number(String rule) {
    return rule.matches("[A-Z][0-9]+") ? Integer.parseInt(rule.substring(1)) : 0;
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

  private List<Outcome> of(String rule, String transport) {
    List<Outcome> os = new ArrayList<>();
    for (Outcome o : outcomes) {
      if (o.rule().equals(rule) && o.transport().equals(transport)) {
        os.add(o);
      }
    }
    return os;
  }

  /** One cell: PASS if every invocation passed, FAIL if any failed, SKIP if all were skipped. */
  String cell(String rule, String transport) {
    List<Outcome> os = of(rule, transport);
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

  /** The time the invocations of one cell took together. */
  Duration time(String rule, String transport) {
    return of(rule, transport).stream().map(Outcome::time).reduce(Duration.ZERO, Duration::plus);
  }

  /** A duration as people read it: 85 ms, 1.4 s, 2 min 05 s. */
  static String show(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    return String.format(Locale.ROOT, "%d min %02d s", ms / 60_000, (ms / 1000) % 60);
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
      out.printf("%-8s %d passed, %d failed, %d skipped%n", t, count(t, Status.PASS), count(t, Status.FAIL),
          count(t, Status.SKIP));
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

  /** One line per failure (with its seed and replay command on the next lines) and per distinct skip reason. */
  private Set<String> notes() {
    Set<String> notes = new LinkedHashSet<>();
    for (Outcome o : outcomes) {
      if (o.status() == Status.FAIL) {
        notes.add("FAIL " + o.transport() + " " + o.rule() + " [" + o.invocation() + "]: " + o.detail()
            + (o.seed().isEmpty() ? "" : "\n      seed " + o.seed())
            + (o.replay().isEmpty() ? "" : "\n      replay: " + o.replay()));
      } else if (o.status() == Status.SKIP) {
        notes.add("skip " + o.transport() + " " + o.rule() + ": " + o.detail());
      }
    }
    return notes;
  }

  void writeMarkdown(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("# Braid conformance matrix\n\n");
    if (info != null) {
      sb.append("Run ").append(info.started().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append(" · Braid ")
          .append(info.braidVersion()).append(" · ").append(info.jvm()).append(" · ").append(info.os())
          .append(" · `").append(info.command()).append("`\n\n");
      for (RunInfo.Column c : info.columns()) {
        sb.append("- **").append(c.id()).append("**: ");
        sb.append(c.providers().stream().map(p -> p.id() + " (" + libraries(p) + "; capabilities "
            + capabilities(p.capabilities()) + ")").collect(Collectors.joining(" dialing, ")))
            .append(c.providers().size() == 2 ? " listening" : "").append('\n');
      }
      sb.append('\n');
    }
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
        String c = cell(r.getKey(), t);
        sb.append(' ').append(c).append(c.equals("-") || c.equals("skip") ? "" : ", " + show(time(r.getKey(), t)))
            .append(" |");
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
      notes.forEach(n -> sb.append("- ").append(n.replace("\n      ", "<br>")).append('\n'));
    }
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  void writeHtml(Path file, Duration elapsed) throws IOException {
    Files.writeString(file, html(elapsed), StandardCharsets.UTF_8);
  }

  private static final String CSS = String.join("\n",
      "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1d2125;"
          + "margin:24px auto;max-width:1500px;padding:0 20px}",
      "h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;"
          + "padding-bottom:4px}",
      ".verdict{font-size:17px;font-weight:600;padding:8px 12px;border-radius:6px;display:inline-block;margin:6px 0 14px}",
      ".verdict.ok{background:#dafbe1;color:#116329}.verdict.bad{background:#ffebe9;color:#a40e26}",
      "table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:5px 9px;vertical-align:top;text-align:left}",
      "th{background:#f6f8fa;font-weight:600}",
      "table.facts th{width:150px}",
      "table.matrix{width:100%}table.matrix thead th{position:sticky;top:0;z-index:1}",
      "td.rule{font-weight:700;white-space:nowrap}td.kind{color:#57606a;white-space:nowrap}",
      "td.cell{white-space:nowrap;font-weight:600}td.cell .t{display:block;font-weight:400;color:#57606a;font-size:12px}",
      ".pass{background:#dafbe1}.fail{background:#ffcecb}.skip{background:#eaeef2}.none{color:#8c959f}",
      "tr.why td{background:#fcfcfd;border-top:none}",
      ".note{margin:4px 0 8px;padding:6px 10px;border-left:4px solid #8c959f;background:#f6f8fa;border-radius:3px}",
      ".note.fail{border-color:#cf222e;background:#fff5f5}.note.skip{border-color:#8c959f}",
      ".note .head{font-weight:600}.note .msg{margin:3px 0}",
      ".note dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:4px 0}",
      ".note dt{color:#57606a}.note dd{margin:0}",
      "code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}",
      "code{background:#eff1f3;padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}",
      "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border:1px solid #d0d7de;padding:8px;"
          + "max-height:420px;overflow:auto;margin:4px 0}",
      "small,.muted{color:#57606a}ul.libs{margin:0;padding-left:18px}",
      ".jump{margin:0 0 8px}.jump a{color:#a40e26;font-weight:600;margin-right:6px}");

  String html(Duration elapsed) {
    long fails = outcomes.stream().filter(o -> o.status() == Status.FAIL).count();
    long passes = outcomes.stream().filter(o -> o.status() == Status.PASS).count();
    long skips = outcomes.stream().filter(o -> o.status() == Status.SKIP).count();
    Map<String, String> rules = rules();
    long failedRules = rules.keySet().stream()
        .filter(r -> transports.stream().anyMatch(t -> cell(r, t).startsWith("FAIL"))).count();
    String verdict = (fails == 0 ? "PASS" : "FAIL: " + failedRules + " rule" + (failedRules == 1 ? "" : "s")
        + " failed") + " · tests: " + passes + " passed, " + fails + " failed, " + skips + " skipped"
        + (unavailable.isEmpty() ? "" : " · " + unavailable.size() + " transport(s) unavailable");
    StringBuilder sb = new StringBuilder(64 * 1024);
    sb.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        .append("<title>Braid conformance: ").append(esc(fails == 0 ? "PASS" : "FAIL"))
        .append(info == null ? "" : " · " + esc(info.started().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm"))))
        .append("</title>\n<style>\n").append(CSS).append("\n</style></head>\n<body>\n")
        .append("<h1>Braid conformance report</h1>\n<div class=\"verdict ").append(fails == 0 ? "ok" : "bad")
        .append("\">").append(esc(verdict)).append("</div>\n");
    List<String> failed = rules.keySet().stream()
        .filter(r -> transports.stream().anyMatch(t -> cell(r, t).startsWith("FAIL"))).toList();
    if (!failed.isEmpty()) {
      sb.append("<p class=\"jump\">Failed: ");
      failed.forEach(r -> sb.append("<a href=\"#rule-").append(esc(r)).append("\">").append(esc(r)).append("</a> "));
      sb.append("</p>\n");
    }
    tested(sb, elapsed);
    matrix(sb, rules);
    sb.append("<p class=\"muted\">Rules are those of SPEC.md; most run from both ends (dialer opens, listener opens). "
        + "Kinds: <b>required</b> (every transport), <b>capability</b> (skipped, with the reason, without the "
        + "capability), <b>stochastic</b> (seeded races and random runs: a failure names its seed and the command "
        + "that replays it). Times are wall-clock, summed over a cell's invocations.</p>\n</body></html>\n");
    return sb.toString();
  }

  /** The head: what was tested. */
  private void tested(StringBuilder sb, Duration elapsed) {
    sb.append("<h2 id=\"tested\">What was tested</h2>\n<table class=\"facts\">\n");
    if (info != null) {
      fact(sb, "Run", info.started().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss xxx '('VV')'"))
          + (elapsed == null ? "" : ", " + show(elapsed) + " in all"));
      fact(sb, "Braid", info.braidVersion());
      fact(sb, "JVM", info.jvm());
      fact(sb, "OS", info.os());
      sb.append("<tr><th>Command</th><td><code>").append(esc(info.command())).append("</code></td></tr>\n");
    } else if (elapsed != null) {
      fact(sb, "Time", show(elapsed));
    }
    sb.append("</table>\n<h2 id=\"transports\">Transports</h2>\n<table class=\"transports\">\n<tr><th>column</th>"
        + "<th>provider</th><th>libraries</th><th>capabilities</th><th>result</th></tr>\n");
    for (String t : transports) {
      RunInfo.Column column = info == null ? null
          : info.columns().stream().filter(c -> c.id().equals(t)).findFirst().orElse(null);
      List<RunInfo.Provider> providers = column == null ? List.of() : column.providers();
      int span = Math.max(1, providers.size());
      for (int i = 0; i < span; i++) {
        sb.append("<tr>");
        if (i == 0) {
          sb.append("<td rowspan=\"").append(span).append("\"><b>").append(esc(t)).append("</b></td>");
        }
        if (providers.isEmpty()) {
          sb.append("<td colspan=\"3\" class=\"none\">not recorded</td>");
        } else {
          RunInfo.Provider p = providers.get(i);
          sb.append("<td>").append(esc(p.id())).append(providers.size() == 2 ? (i == 0 ? " <small>(dialer)</small>"
              : " <small>(listener)</small>") : "").append("<br><small>").append(esc(p.implementation()))
              .append(", priority ").append(p.priority()).append("</small></td><td>");
          if (p.libraries().isEmpty()) {
            sb.append("<span class=\"none\">none reported</span>");
          } else {
            sb.append("<ul class=\"libs\">");
            p.libraries().forEach((lib, v) -> sb.append("<li>").append(esc(lib)).append(" <code>").append(esc(v))
                .append("</code></li>"));
            sb.append("</ul>");
          }
          sb.append("</td><td>").append(esc(capabilities(p.capabilities()))).append("</td>");
        }
        if (i == 0) {
          long f = count(t, Status.FAIL);
          sb.append("<td rowspan=\"").append(span).append("\" class=\"").append(f > 0 ? "fail" : "pass").append("\">")
              .append(count(t, Status.PASS)).append(" passed, ").append(f).append(" failed, ")
              .append(count(t, Status.SKIP)).append(" skipped</td>");
        }
        sb.append("</tr>\n");
      }
    }
    unavailable.forEach((t, why) -> sb.append("<tr><td><b>").append(esc(t)).append("</b></td><td colspan=\"3\">")
        .append("unavailable here: ").append(esc(why)).append("</td><td class=\"skip\">not run</td></tr>\n"));
    sb.append("</table>\n");
  }

  private static void fact(StringBuilder sb, String name, String value) {
    sb.append("<tr><th>").append(esc(name)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
  }

  /** The rules, one row each, and under a rule that did not simply pass a row saying why. */
  private void matrix(StringBuilder sb, Map<String, String> rules) {
    sb.append("<h2 id=\"rules\">Rules</h2>\n<table class=\"matrix\">\n<thead><tr><th>rule</th><th>what it checks</th>"
        + "<th>kind</th>");
    transports.forEach(t -> sb.append("<th>").append(esc(t)).append("</th>"));
    sb.append("</tr></thead>\n<tbody>\n");
    for (Map.Entry<String, String> r : rules.entrySet()) {
      String rule = r.getKey();
      sb.append("<tr id=\"rule-").append(esc(rule)).append("\"><td class=\"rule\">").append(esc(rule))
          .append("</td><td>").append(esc(r.getValue())).append("</td><td class=\"kind\">").append(esc(kind(rule)))
          .append("</td>");
      for (String t : transports) {
        String c = cell(rule, t);
        String cls = c.startsWith("FAIL") ? "fail" : c.startsWith("pass") ? "pass" : c.equals("skip") ? "skip" : "none";
        sb.append("<td class=\"cell ").append(cls).append("\">").append(esc(c));
        if (!c.equals("-")) {
          sb.append("<span class=\"t\">").append(esc(show(time(rule, t)))).append("</span>");
        }
        sb.append("</td>");
      }
      sb.append("</tr>\n");
      StringBuilder why = new StringBuilder();
      for (String t : transports) {
        failures(why, rule, t);
      }
      skips(why, rule);
      if (why.length() > 0) {
        sb.append("<tr class=\"why\"><td></td><td colspan=\"").append(2 + transports.size()).append("\">").append(why)
            .append("</td></tr>\n");
      }
    }
    sb.append("</tbody></table>\n");
  }

  /** A note per failed invocation of one cell: what failed, and for a seeded rule the seed and the replay command. */
  private void failures(StringBuilder sb, String rule, String transport) {
    for (Outcome o : of(rule, transport)) {
      if (o.status() != Status.FAIL) {
        continue;
      }
      sb.append("<div class=\"note fail\"><div class=\"head\">FAIL · ").append(esc(transport)).append(" · ")
          .append(esc(o.invocation())).append(" · ").append(esc(show(o.time()))).append("</div>")
          .append("<div class=\"msg\">").append(esc(o.detail())).append("</div>");
      if (!o.seed().isEmpty() || !o.replay().isEmpty()) {
        sb.append("<dl>");
        if (!o.seed().isEmpty()) {
          sb.append("<dt>seed</dt><dd><code>").append(esc(o.seed())).append("</code></dd>");
        }
        if (!o.replay().isEmpty()) {
          sb.append("<dt>replay</dt><dd><code>").append(esc(o.replay())).append("</code></dd>");
        }
        sb.append("</dl>");
      }
      String more = o.message().strip();
      if (!more.isEmpty() && !more.equals(o.detail())) {
        sb.append("<details><summary>whole message</summary><pre>").append(esc(more)).append("</pre></details>");
      }
      sb.append("</div>");
    }
  }

  /**
   * A note per distinct skip reason of one rule, naming the transports (and, when only some invocations were
   * skipped, which) it applies to: "left out by --quick" once for every column, not once each.
   */
  private void skips(StringBuilder sb, String rule) {
    Map<String, List<String>> where = new LinkedHashMap<>();
    for (String t : transports) {
      List<Outcome> os = of(rule, t);
      Map<String, List<Outcome>> byReason = new LinkedHashMap<>();
      os.stream().filter(o -> o.status() == Status.SKIP)
          .forEach(o -> byReason.computeIfAbsent(o.detail(), d -> new ArrayList<>()).add(o));
      byReason.forEach((reason, skipped) -> where.computeIfAbsent(reason, r -> new ArrayList<>())
          .add(skipped.size() == os.size() || skipped.get(0).invocation().equals("all") ? t
              : t + " [" + skipped.stream().map(Outcome::invocation).collect(Collectors.joining(", ")) + "]"));
    }
    where.forEach((reason, ts) -> sb.append("<div class=\"note skip\"><span class=\"head\">skipped · ")
        .append(esc(String.join(", ", ts))).append(":</span> ").append(esc(reason)).append("</div>"));
  }

  private static String libraries(RunInfo.Provider p) {
    return p.libraries().isEmpty() ? "no libraries reported"
        : p.libraries().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
  }

  /** The declared capabilities, and those lacking (each lacking one turns its rules into skips). */
  static String capabilities(Set<Capability> declared) {
    Set<Capability> lacking = EnumSet.allOf(Capability.class);
    lacking.removeAll(declared);
    return (declared.isEmpty() ? "none" : declared.stream().map(Enum::name).collect(Collectors.joining(", ")))
        + (lacking.isEmpty() ? "" : "; lacks " + lacking.stream().map(Enum::name).collect(Collectors.joining(", ")));
  }

  /** Text as HTML: the five characters that could end an element or an attribute are escaped. */
  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }
}
