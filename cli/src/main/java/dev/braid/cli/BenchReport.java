package dev.braid.cli;

import dev.braid.cli.Bench.Row;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** {@code braid bench}'s report: a Markdown table of the figures with their ratios, and an SVG chart of the ratios. */
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
      sb.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\">%s: %s</text>%n", y + 15, esc(r.transport()),
          esc(r.metric())));
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
}
