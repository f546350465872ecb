import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Checks the staging directory that {@code mvn -Prelease verify} fills (run by {@code bin/check-release}, which
 * builds it first): for every published module of the reactor (every module, the root and the BOM included, unless
 * its POM sets {@code maven.deploy.skip} to true), the layout Maven Central expects
 * ({@code groupId/artifactId/version/}), the POM and, for a jar module, the jar, the {@code -sources.jar} and the
 * {@code -javadoc.jar}, each with {@code .md5} and {@code .sha1} files that match it; a POM whose metadata (own or
 * inherited from a parent POM staged beside it) has a name, description, url, licenses, scm and developers, with no
 * artifactId appended to the inherited url and scm addresses; a BOM that lists exactly the published jar modules;
 * and nothing staged that is not published. Prints each problem and exits 1 if there is any.
 *
 * <p>{@code java bin/CheckRelease.java ROOT STAGING}
 */
public final class CheckRelease {
  private final Path root;
  private final Path staging;
  private final List<String> problems = new ArrayList<>();

  private CheckRelease(Path root, Path staging) {
    this.root = root;
    this.staging = staging;
  }

  /** One module of the reactor, from its pom.xml. */
  record Module(Path dir, String groupId, String artifactId, String version, String packaging, boolean published) {
    String id() {
      return groupId + ":" + artifactId + ":" + version;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: java bin/CheckRelease.java ROOT STAGING");
      System.exit(2);
    }
    CheckRelease check = new CheckRelease(Path.of(args[0]), Path.of(args[1]));
    check.run();
    if (!check.problems.isEmpty()) {
      System.err.println("check-release: FAILED: " + check.problems.size() + " problem(s) in " + check.staging + ":");
      check.problems.forEach(p -> System.err.println("  " + p));
      System.exit(1);
    }
  }

  private void run() throws Exception {
    List<Module> modules = new ArrayList<>();
    collect(root, null, null, modules);
    List<Module> published = modules.stream().filter(Module::published).toList();
    for (Module m : modules) {
      if (!m.published()) {
        System.out.println("check-release: not published (maven.deploy.skip): " + m.artifactId());
      }
    }
    if (!Files.isDirectory(staging)) {
      problems.add("no staging directory " + staging + " (mvn -B -Prelease verify fills it)");
      return;
    }
    for (Module m : published) {
      checkModule(m);
    }
    checkNothingElseStaged(published);
    checkBoms(published);
    if (problems.isEmpty()) {
      System.out.println("check-release: OK: " + published.size() + " published artifacts staged in " + staging
          + " with full metadata (" + String.join(", ", published.stream().map(Module::artifactId).toList()) + ")");
    }
  }

  // ---- the reactor ----

  private void collect(Path dir, String parentGroupId, String parentVersion, List<Module> out) throws Exception {
    Element project = parse(dir.resolve("pom.xml")).getDocumentElement();
    Element parent = child(project, "parent");
    String groupId = text(project, "groupId", parent == null ? parentGroupId : text(parent, "groupId", parentGroupId));
    String version = text(project, "version", parent == null ? parentVersion : text(parent, "version", parentVersion));
    String artifactId = text(project, "artifactId", null);
    String packaging = text(project, "packaging", "jar");
    Element properties = child(project, "properties");
    boolean skip = properties != null && "true".equals(text(properties, "maven.deploy.skip", "false").trim());
    out.add(new Module(dir, groupId, artifactId, version, packaging, !skip));
    Element modules = child(project, "modules");
    if (modules != null) {
      for (Element m : children(modules, "module")) {
        collect(dir.resolve(m.getTextContent().trim()).normalize(), groupId, version, out);
      }
    }
  }

  // ---- one module's staged files ----

  private Path versionDir(String groupId, String artifactId, String version) {
    return staging.resolve(groupId.replace('.', '/')).resolve(artifactId).resolve(version);
  }

  /** The version in the file names: a snapshot's timestamped one, from the maven-metadata.xml beside them. */
  private String fileVersion(Path versionDir, String version) throws Exception {
    if (!version.endsWith("-SNAPSHOT")) {
      return version;
    }
    Path metadata = versionDir.resolve("maven-metadata.xml");
    if (!Files.isRegularFile(metadata)) {
      return null;
    }
    Element snapshot = child(child(parse(metadata).getDocumentElement(), "versioning"), "snapshot");
    return version.substring(0, version.length() - "SNAPSHOT".length()) + text(snapshot, "timestamp", "?") + "-"
        + text(snapshot, "buildNumber", "?");
  }

  private void checkModule(Module m) throws Exception {
    Path dir = versionDir(m.groupId(), m.artifactId(), m.version());
    if (!Files.isDirectory(dir)) {
      problems.add(m.id() + ": not staged (no " + staging.relativize(dir) + ")");
      return;
    }
    String fileVersion = fileVersion(dir, m.version());
    if (fileVersion == null) {
      problems.add(m.id() + ": no maven-metadata.xml for the snapshot in " + staging.relativize(dir));
      return;
    }
    String base = m.artifactId() + "-" + fileVersion;
    Path pom = dir.resolve(base + ".pom");
    if (checkFile(m, pom)) {
      checkPom(m, pom);
    }
    if (!m.packaging().equals("pom")) {
      Path jar = dir.resolve(base + ".jar");
      if (checkFile(m, jar)) {
        if (m.packaging().equals("maven-archetype")) {
          checkJarHas(m, jar, "its archetype descriptor", name -> name.equals("META-INF/maven/archetype-metadata.xml"));
        } else {
          checkJarHas(m, jar, "a class", name -> name.endsWith(".class"));
        }
      }
      Path sources = dir.resolve(base + "-sources.jar");
      if (checkFile(m, sources)) {
        checkJarHas(m, sources, "a .java file", name -> name.endsWith(".java"));
      }
      Path javadoc = dir.resolve(base + "-javadoc.jar");
      if (checkFile(m, javadoc)) {
        checkJarHas(m, javadoc, "index.html", name -> name.equals("index.html"));
      }
    }
  }

  /** The file exists, is not empty, and its .md5 and .sha1 files match it. */
  private boolean checkFile(Module m, Path file) throws IOException, NoSuchAlgorithmException {
    if (!Files.isRegularFile(file) || Files.size(file) == 0) {
      problems.add(m.id() + ": missing or empty " + staging.relativize(file));
      return false;
    }
    byte[] bytes = Files.readAllBytes(file);
    for (String algorithm : new String[] {"MD5", "SHA-1"}) {
      Path sum = file.resolveSibling(file.getFileName() + (algorithm.equals("MD5") ? ".md5" : ".sha1"));
      String expected = HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
      if (!Files.isRegularFile(sum)) {
        problems.add(m.id() + ": no " + staging.relativize(sum));
      } else if (!Files.readString(sum).trim().split("\\s+")[0].equalsIgnoreCase(expected)) {
        problems.add(m.id() + ": " + staging.relativize(sum) + " does not match the file");
      }
    }
    return true;
  }

  private void checkJarHas(Module m, Path jar, String what, Predicate<String> entry) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      if (zip.stream().map(ZipEntry::getName).noneMatch(entry)) {
        problems.add(m.id() + ": " + jar.getFileName() + " holds no " + what);
      }
    }
  }

  // ---- POM metadata ----

  /** A staged POM and the staged POMs of its parents, nearest first. */
  private List<Element> chain(Module m, Path pom) throws Exception {
    List<Element> chain = new ArrayList<>();
    Element project = parse(pom).getDocumentElement();
    chain.add(project);
    Element parent;
    while ((parent = child(project, "parent")) != null) {
      String g = text(parent, "groupId", null);
      String a = text(parent, "artifactId", null);
      String v = text(parent, "version", null);
      Path dir = versionDir(g, a, v);
      String fv = Files.isDirectory(dir) ? fileVersion(dir, v) : null;
      Path parentPom = fv == null ? null : dir.resolve(a + "-" + fv + ".pom");
      if (parentPom == null || !Files.isRegularFile(parentPom)) {
        problems.add(m.id() + ": its parent " + g + ":" + a + ":" + v + " is not staged (Central needs it to read"
            + " the inherited metadata)");
        break;
      }
      project = parse(parentPom).getDocumentElement();
      chain.add(project);
    }
    return chain;
  }

  private void checkPom(Module m, Path pom) throws Exception {
    List<Element> chain = chain(m, pom);
    Element own = chain.get(0);
    // Not inherited: each POM says what it is.
    for (String field : new String[] {"name", "description"}) {
      if (text(own, field, "").isBlank()) {
        problems.add(m.id() + ": the POM has no <" + field + "> of its own");
      }
    }
    requireInherited(m, chain, "url", "project", e -> !text(e, "url", "").isBlank());
    requireInherited(m, chain, "licenses", null,
        e -> child(e, "licenses") != null && children(child(e, "licenses"), "license").stream()
            .anyMatch(l -> !text(l, "name", "").isBlank() && !text(l, "url", "").isBlank()));
    requireInherited(m, chain, "developers", null,
        e -> child(e, "developers") != null && !children(child(e, "developers"), "developer").isEmpty());
    for (String field : new String[] {"connection", "developerConnection", "url"}) {
      requireInherited(m, chain, "scm/" + field, "scm",
          e -> child(e, "scm") != null && !text(child(e, "scm"), field, "").isBlank());
    }
  }

  /**
   * The nearest POM of the chain that has the field; when that is a parent, the POM that defines it must stop Maven
   * from appending the child's artifactId to it ({@code child.*.inherit.append.path="false"}).
   */
  private void requireInherited(Module m, List<Element> chain, String field, String appendElement,
      Predicate<Element> has) {
    for (int i = 0; i < chain.size(); i++) {
      Element project = chain.get(i);
      if (!has.test(project)) {
        continue;
      }
      if (i > 0 && appendElement != null) {
        String leaf = field.contains("/") ? field.substring(field.indexOf('/') + 1) : field;
        Element holder = appendElement.equals("project") ? project : child(project, appendElement);
        String attribute = "child." + (appendElement.equals("project") ? "project." : "scm.") + leaf
            + ".inherit.append.path";
        if (!"false".equals(holder.getAttribute(attribute))) {
          problems.add(m.id() + ": inherits <" + field + "> from " + text(project, "artifactId", "?")
              + ", which lacks " + attribute + "=\"false\" (Maven would append the artifactId)");
        }
      }
      return;
    }
    problems.add(m.id() + ": no <" + field + "> in its POM or its parents'");
  }

  // ---- the staging directory as a whole ----

  private void checkNothingElseStaged(List<Module> published) throws IOException {
    Set<Path> expected = new TreeSet<>();
    for (Module m : published) {
      expected.add(staging.resolve(m.groupId().replace('.', '/')).resolve(m.artifactId()));
    }
    // An artifact directory is one that holds version directories with a POM in them.
    try (Stream<Path> files = Files.walk(staging)) {
      Set<Path> staged = new TreeSet<>();
      files.filter(p -> p.getFileName().toString().endsWith(".pom"))
          .forEach(p -> staged.add(p.getParent().getParent()));
      staged.removeAll(expected);
      for (Path extra : staged) {
        problems.add("staged but not a published module of this reactor: " + staging.relativize(extra));
      }
    }
  }

  /** Every BOM (a published pom module named *-bom) lists exactly the published jar modules (packaging jar), at their version. */
  private void checkBoms(List<Module> published) throws Exception {
    Map<String, String> jars = new LinkedHashMap<>();
    for (Module m : published) {
      if (m.packaging().equals("jar")) { // an archetype is not a dependency
        jars.put(m.groupId() + ":" + m.artifactId(), m.version());
      }
    }
    for (Module bom : published) {
      if (!bom.packaging().equals("pom") || !bom.artifactId().endsWith("-bom")) {
        continue;
      }
      Element management = child(parse(bom.dir().resolve("pom.xml")).getDocumentElement(), "dependencyManagement");
      Map<String, String> listed = new LinkedHashMap<>();
      if (management != null && child(management, "dependencies") != null) {
        for (Element d : children(child(management, "dependencies"), "dependency")) {
          listed.put(text(d, "groupId", "") + ":" + text(d, "artifactId", ""), text(d, "version", ""));
        }
      }
      for (Map.Entry<String, String> jar : jars.entrySet()) {
        String version = listed.get(jar.getKey());
        if (version == null) {
          problems.add(bom.id() + ": does not list the published " + jar.getKey());
        } else if (!version.equals(jar.getValue())) {
          problems.add(bom.id() + ": lists " + jar.getKey() + " at " + version + ", the reactor builds "
              + jar.getValue());
        }
      }
      for (String key : listed.keySet()) {
        if (key.startsWith(bom.groupId() + ":") && !jars.containsKey(key)) {
          problems.add(bom.id() + ": lists " + key + ", which is not a published jar module");
        }
      }
    }
  }

  // ---- XML ----

  private static Document parse(Path file) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(false);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    try (InputStream in = Files.newInputStream(file)) {
      return factory.newDocumentBuilder().parse(in);
    }
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> out = new ArrayList<>();
    if (parent == null) {
      return out;
    }
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  private static Element child(Element parent, String name) {
    List<Element> all = children(parent, name);
    return all.isEmpty() ? null : all.get(0);
  }

  private static String text(Element parent, String name, String otherwise) {
    Element e = child(parent, name);
    return e == null ? otherwise : e.getTextContent().trim();
  }
}
