/**
 * Braid's user API ({@code dev.braid}) and the SPI for transport authors ({@code dev.braid.spi}).
 * Depends on the JDK only.
 */
module dev.braid.api {
  requires jdk.jfr;
  requires java.management;

  exports dev.braid;
  exports dev.braid.spi;
  exports dev.braid.tls;

  uses dev.braid.spi.TransportProvider;
}
