package dev.braid.transport.webrtc.internal;

/**
 * Whether webrtc-java's native library loads here. Checked once, lazily, on first use (never in a
 * provider constructor): loading only maps the library, it creates no native object, so a missing
 * dependency surfaces as an {@link UnsatisfiedLinkError} that is caught here instead of a crash.
 *
 * <p><b>Thread safety.</b> Thread-safe; the check runs at most once.
 */
public final class NativeSupport {
  /** What fixes the usual failure on Debian/Ubuntu. */
  public static final String INSTALL_HINT = "apt-get install -y libpulse0 (webrtc-java 0.14.0 also needs libudev1 libx11-6 "
      + "libxfixes3 libxrandr2 libxcomposite1 libdbus-1-3)";

  private static final Object LOCK = new Object();
  private static boolean checked; // guarded by LOCK
  private static Throwable cause; // guarded by LOCK

  private NativeSupport() {}

  /** Null when the native library loaded; otherwise why not, with the fix in the message. */
  public static Throwable unavailabilityCause() {
    synchronized (LOCK) {
      if (!checked) {
        checked = true;
        cause = probe();
      }
      return cause;
    }
  }

  private static Throwable probe() {
    String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return new UnsupportedOperationException("the WebRTC transport bundles webrtc-java's linux-x86_64 natives only; this is "
          + os + "/" + arch);
    }
    try {
      // PeerConnectionFactory's static initializer loads the library and nothing else.
      Class.forName("dev.onvoid.webrtc.PeerConnectionFactory", true, NativeSupport.class.getClassLoader());
      return null;
    } catch (Throwable thrown) { // UnsatisfiedLinkError for a missing libpulse0, NPE when the classifier jar is absent
      Throwable t = thrown instanceof ExceptionInInitializerError eiie && eiie.getCause() != null ? eiie.getCause() : thrown;
      if (t.getCause() != null && t.getMessage() != null && t.getMessage().startsWith("Load library")) {
        t = t.getCause();
      }
      if (thrown instanceof VirtualMachineError vme && !(thrown instanceof OutOfMemoryError)) {
        throw vme;
      }
      Throwable root = t;
      return new UnsatisfiedLinkError("webrtc-java's native library (dev.onvoid.webrtc:webrtc-java:0.14.0:linux-x86_64) "
          + "cannot load: " + root + "; install its system libraries: " + INSTALL_HINT
          + " (and make sure the linux-x86_64 classifier jar is on the class path)") {
        private static final long serialVersionUID = 1L;

        @Override
        public synchronized Throwable getCause() {
          return root;
        }
      };
    }
  }
}
