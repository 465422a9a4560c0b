/**
 * The {@code camel} command of Camel JBang, without JBang: run by {@code bin/camel} with the classpath of
 * org.apache.camel:camel-jbang-core (Java runs this source file directly, nothing to compile).
 */
public class CamelLauncher {

    public static void main(String... args) {
        org.apache.camel.dsl.jbang.core.commands.CamelJBangMain.run(args);
    }
}
