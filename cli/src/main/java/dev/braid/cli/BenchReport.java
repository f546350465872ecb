package dev.braid.cli;

import dev.braid.cli.Bench.Row;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code braid bench}'s report: a Markdown table of the figures with their ratios, an SVG chart of the ratios, and one
 * self-contained HTML page with both (the chart inline, not linked).
 */
final class BenchReport {
  private BenchReport() {}

  static String markdown(List<Row> rows, Bench.Sizes sizes, List<String> baselineFailures, int attempts) {
    StringBuilder sb = new StringBuilder();
    sb.append("| transport | metric | Braid | baseline | baseline value | ratio (Braid / baseline) "
        + "| MB per CPU-second, Braid / baseline |\n");
    sb.append("|---|---|---:|---|---:|---:|---:|\n");
    for (Row r : rows) {
      String cpu = Double.isNaN(r.braid().mbPerCpuSecond()) ? ""
          : String.format(Locale.ROOT, "%.0f / %.0f", r.braid().mbPerCpuSecond(), r.baseline().mbPerCpuSecond());
      if (Double.isNaN(r.braid().median())) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | not measured | %s | | | |%n", r.transport(), r.metric(),
            r.baselineName()));
        continue;
      }
      if (Double.isNaN(r.baseline().median())) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %s %s | %s | baseline failed (see below) | | %s |%n",
            r.transport(), r.metric(), r.braid().show(), r.unit(), r.baselineName(), cpu));
        continue;
      }
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s %s | %s | %s %s | %.2f%s | %s |%n", r.transport(),
          r.metric(), r.braid().show(), r.unit(), r.baselineName(), r.baseline().show(), r.unit(), r.ratio(),
          r.higherIsBetter() ? " (higher is better)" : " (lower is better)", cpu));
    }
    for (String failure : baselineFailures) {
      sb.append(String.format(Locale.ROOT, "%nBaseline failed all %d attempts: %s%n", attempts, failure));
    }
    sb.append(String.format(Locale.ROOT, "%nMethod: each throughput figure is a warm-up of %d s (the last run calibrates),"
            + " then %d timed trials of about %d s each; latency figures are %d sample sets of %d (open) and %d (round"
            + " trip) samples after %d s of warm-up sets. Shown: the median of the trials (min–max); the ratio is of the"
            + " medians. MB per CPU-second counts the whole process (both ends). %d streams for the multi-stream"
            + " figure; %d idle streams; open-cost steps %s. JVM %s, %d cores.%n",
        sizes.trials().warmUp().toSeconds(), sizes.trials().count(), sizes.trials().trial().toSeconds(),
        sizes.trials().count(), sizes.latencySamples(), sizes.latencySamples() * 4, sizes.trials().warmUp().toSeconds(),
        sizes.multiStreams(), sizes.idleStreams(), Arrays.toString(sizes.scaleSteps()),
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors()));
    return sb.toString();
  }

  /** A bar chart of the ratios, one bar per figure; the line at 1.0 is parity with the baseline. */
  static String svg(List<Row> rows) {
    int barH = 22;
    int left = 330;
    int width = 900;
    int height = 60 + rows.size() * barH;
    double max = rows.stream().mapToDouble(Row::ratio).filter(d -> !Double.isNaN(d)).max().orElse(1);
    max = Math.max(max, 1.2);
    double scale = (width - left - 80) / max;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        + "font-family=\"sans-serif\" font-size=\"12\">%n", width, height));
    sb.append("<text x=\"10\" y=\"20\" font-size=\"15\">Braid / baseline, same run (throughput: higher is better; "
        + "latency, memory, cost: lower is better)</text>\n");
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      int y = 40 + i * barH;
      double ratio = Double.isNaN(r.ratio()) ? 0 : r.ratio();
      boolean good = r.higherIsBetter() ? ratio >= 0.5 : ratio <= 2;
      String label = r.transport() + ": " + r.metric();
      String shown = label.length() <= 48 ? label : label.substring(0, 47) + "…"; // the bars start at x=330
      sb.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\"><title>%s</title>%s</text>%n", y + 15,
          esc(label), esc(shown)));
      sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n", left,
          y + 3, ratio * scale, barH - 6, good ? "#4a90d9" : "#d9534f"));
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%.2f</text>%n", left + ratio * scale + 5, y + 15,
          ratio));
    }
    sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"30\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" "
        + "stroke-dasharray=\"4\"/>%n", left + scale, left + scale, height - 10));
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
  /**
   * One HTML page: the run's facts, the chart inline and the table and notes of {@code markdown} (as {@link #markdown}
   * and {@code WanBench.markdown} write it: paragraphs and pipe tables). Inline CSS, nothing fetched.
   */
  static String html(String title, String markdown, String svg) {
    StringBuilder sb = new StringBuilder(16 * 1024);
    sb.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Report.esc(title))
        .append("</title>\n<style>\n")
        .append("body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1d2125;"
            + "margin:24px auto;max-width:1300px;padding:0 20px}\n")
        .append("h1{font-size:24px}table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #d0d7de;"
            + "padding:4px 9px}th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}\n")
        .append(".chart{margin:12px 0;overflow-x:auto}.muted{color:#57606a}\n</style></head>\n<body>\n<h1>")
        .append(Report.esc(title)).append("</h1>\n<p class=\"muted\">")
        .append(Report.esc(java.time.ZonedDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern(
            "yyyy-MM-dd HH:mm:ss xxx"))))
        .append(" · Braid ").append(Report.esc(RunInfo.currentBraidVersion())).append(" · ")
        .append(Report.esc(System.getProperty("java.vendor", "?") + " " + System.getProperty("java.runtime.version", "?")))
        .append(" · ").append(Report.esc(System.getProperty("os.name", "?") + " " + System.getProperty("os.arch", "?")
            + ", " + Runtime.getRuntime().availableProcessors() + " cores")).append("</p>\n<div class=\"chart\">\n")
        .append(svg).append("</div>\n");
    List<String> lines = List.of(markdown.split("\n", -1));
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.startsWith("|")) {
        List<String[]> table = new java.util.ArrayList<>();
        while (i < lines.size() && lines.get(i).strip().startsWith("|")) {
          table.add(cells(lines.get(i).strip()));
          i++;
        }
        i--;
        table(sb, table);
      } else if (!line.isEmpty()) {
        StringBuilder para = new StringBuilder(line);
        while (i + 1 < lines.size() && !lines.get(i + 1).isBlank() && !lines.get(i + 1).strip().startsWith("|")) {
          para.append(' ').append(lines.get(++i).strip());
        }
        sb.append("<p>").append(Report.esc(para.toString())).append("</p>\n");
      }
    }
    sb.append("</body></html>\n");
    return sb.toString();
  }

  private static String[] cells(String row) {
    String inner = row.substring(1, row.endsWith("|") && row.length() > 1 ? row.length() - 1 : row.length());
    String[] c = inner.split("(?<!\\\\)\\|", -1);
    for (int k = 0; k < c.length; k++) {
      c[k] = c[k].strip().replace("\\|", "|");
    }
    return c;
  }

  /** A pipe table: the first row is the head; the second (dashes, ":" for right-aligned) sets the alignment. */
  private static void table(StringBuilder sb, List<String[]> rows) {
    boolean[] right = new boolean[rows.get(0).length];
    int body = 1;
    if (rows.size() > 1 && String.join("", rows.get(1)).matches("[-: ]*")) {
      for (int k = 0; k < right.length && k < rows.get(1).length; k++) {
        right[k] = rows.get(1)[k].endsWith(":");
      }
      body = 2;
    }
    sb.append("<table>\n<tr>");
    for (String h : rows.get(0)) {
      sb.append("<th>").append(Report.esc(h)).append("</th>");
    }
    sb.append("</tr>\n");
    for (String[] r : rows.subList(body, rows.size())) {
      sb.append("<tr>");
      for (int k = 0; k < r.length; k++) {
        sb.append(k < right.length && right[k] ? "<td class=\"num\">" : "<td>").append(Report.esc(r[k])).append("</td>");
      }
      sb.append("</tr>\n");
    }
    sb.append("</table>\n");
  }
}
