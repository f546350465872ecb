/** Braid's command line: the conformance kit and the benchmarks over every transport found at run time. */
module dev.braid.cli {
  requires dev.braid.api;
  requires dev.braid.conformance;
  requires org.junit.platform.launcher;
  requires org.junit.platform.reporting;
  requires java.management;
  requires java.logging;

  uses dev.braid.spi.BenchBaseline;

  uses dev.braid.spi.TransportProvider;

  opens dev.braid.cli to org.junit.platform.commons;
}
