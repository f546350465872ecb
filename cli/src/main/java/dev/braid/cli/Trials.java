package dev.braid.cli;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * Steady-state measurement for {@code braid bench}: a workload is first run again and again for the warm-up time
 * (the JIT compiles the hot paths of both sides meanwhile; the last run calibrates), then several timed trials are run, each sized from the calibration to last about the trial duration, so that a figure
 * is dominated by steady state rather than start-up. A result is the median of the trials with their spread, and,
 * for throughput, the megabytes moved per CPU-second of the whole process (both ends run in it), which a busy
 * machine disturbs far less than wall-clock time.
 */
final class Trials {
  private static final long MIN_BYTES = 4L << 20;
  private static final long MAX_BYTES = 4L << 30;

  private Trials() {}

  /**
   * How long a figure is warmed up, how long each trial should last and how many there are. One warm-up of a few
   * megabytes was not enough: TCP's one-stream figure went on rising for seconds after it (1.5 GB/s in the first
   * three seconds of a run, 2.7–3.7 GB/s in the next twelve, measured outside the bench), so the trials measured
   * the JIT, not the transport.
   */
  record Method(Duration warmUp, Duration trial, int count) {
    static Method of(boolean quick) {
      return quick ? new Method(Duration.ofSeconds(3), Duration.ofSeconds(1), 3)
          : new Method(Duration.ofSeconds(5), Duration.ofSeconds(3), 5);
    }
  }

  /** A throughput workload: moves {@code bytes} and returns MB/s (NaN if it could not be measured). */
  @FunctionalInterface
  interface Throughput {
    double run(long bytes) throws Exception;
  }

  /** A latency workload: takes one sample set and returns its median in µs (NaN if it could not be measured). */
  @FunctionalInterface
  interface Latency {
    double run() throws Exception;
  }

  /**
   * A figure: the median of the trials and their range; {@code mbPerCpuSecond} is NaN where it does not apply.
   */
  record Result(double median, double min, double max, double mbPerCpuSecond) {
    static Result single(double value) {
      return new Result(value, value, value, Double.NaN);
    }

    static Result of(double[] values, double mbPerCpuSecond) {
      double[] s = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
      if (s.length == 0) {
        return new Result(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
      }
      double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
      return new Result(median, s[0], s[s.length - 1], mbPerCpuSecond);
    }

    /** The median with its range, e.g. {@code 812.4 (790.1–830.0)}; a single value alone. */
    String show() {
      if (Double.isNaN(median)) {
        return "n/a";
      }
      if (min == max) {
        return String.format(Locale.ROOT, "%.1f", median);
      }
      return String.format(Locale.ROOT, "%.1f (%.1f–%.1f)", median, min, max);
    }
  }

  /**
   * Warm-up (first run with {@code probeBytes}, then runs sized from the last rate, for {@code method.warmUp()};
   * the last one calibrates), then {@code method.count()} timed trials.
   */
  static Result throughput(Throughput w, long probeBytes, Method method) throws Exception {
    long warmEnd = System.nanoTime() + method.warmUp().toNanos();
    long size = probeBytes;
    long bytes;
    while (true) {
      double rate = w.run(size);
      if (Double.isNaN(rate) || rate <= 0) {
        return Result.of(new double[] {rate}, Double.NaN);
      }
      bytes = Math.max(MIN_BYTES, Math.min(MAX_BYTES, (long) (rate * 1e6 * method.trial().toNanos() / 1e9)));
      bytes = (bytes + (64 << 10) - 1) / (64 << 10) * (64 << 10);
      if (System.nanoTime() - warmEnd >= 0) {
        break;
      }
      size = bytes;
    }
    double[] mbs = new double[method.count()];
    double[] perCpu = new double[method.count()];
    for (int i = 0; i < mbs.length; i++) {
      long cpu0 = processCpuNanos();
      mbs[i] = w.run(bytes);
      long cpu = processCpuNanos() - cpu0;
      perCpu[i] = cpu > 0 ? bytes / 1e6 / (cpu / 1e9) : Double.NaN;
    }
    return Result.of(mbs, Result.of(perCpu, Double.NaN).median());
  }

  /**
   * Warm-up sample sets for {@code method.warmUp()} (at least one), then {@code method.count()} sample sets; the
   * result is over their medians.
   */
  static Result latency(Latency w, Method method) throws Exception {
    long warmEnd = System.nanoTime() + method.warmUp().toNanos();
    do {
      w.run();
    } while (System.nanoTime() - warmEnd < 0);
    double[] medians = new double[method.count()];
    for (int i = 0; i < medians.length; i++) {
      medians[i] = w.run();
    }
    return Result.of(medians, Double.NaN);
  }

  /** CPU time the whole process used so far (every thread: both ends of the benchmark and the baseline). */
  static long processCpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }
}
