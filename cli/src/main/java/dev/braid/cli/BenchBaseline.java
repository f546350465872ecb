package dev.braid.cli;

/**
 * What Braid is compared with in {@code braid bench}: the same workloads, without Braid, in the same run.
 * Implementations are found with {@link java.util.ServiceLoader}; a transport without one is compared
 * with {@link RawTcpBaseline}.
 */
public interface BenchBaseline {
  /** The transport this baseline belongs to. */
  String transportId();

  /** What the baseline is, e.g. "raw JDK TCP socket". */
  String name();

  /** Starts whatever server side the baseline needs. */
  void start() throws Exception;

  /** Stops it and frees every resource. */
  void stop() throws Exception;

  /** MB/s over one connection or stream. */
  double oneStreamThroughput(long bytes) throws Exception;

  /** Aggregate MB/s over {@code n} concurrent connections or streams. */
  double manyStreamsThroughput(int n, long perStream) throws Exception;

  /** Median µs to open a connection or stream and get one byte echoed. */
  double openFirstByteMicros(int samples) throws Exception;

  /** Median µs for a 64-byte round trip. */
  double roundTripMicros(int samples) throws Exception;

  /** Heap bytes per idle open connection or stream. */
  double memoryPerIdleStreamBytes(int n) throws Exception;
}
