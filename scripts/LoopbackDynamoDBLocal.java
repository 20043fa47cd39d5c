// Starts Amazon's DynamoDB Local listening on 127.0.0.1 only.
//
// DynamoDB Local has no option for the address it listens on: its ServerRunner builds a Jetty server
// on a port, which binds every interface. This launcher builds the same server with the same command
// line (-port, -dbPath, -sharedDb, -inMemory, ...), sets the host of its connectors to loopback
// before starting it, and leaves everything else to DynamoDB Local. Run with Java 17+ (a JDK: the
// source-file launcher compiles it in memory), DynamoDBLocal.jar on the class path:
//   java -cp DynamoDBLocal.jar scripts/LoopbackDynamoDBLocal.java -port 8000 -inMemory
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local built a server without connectors");
        }
        for (Connector connector : connectors) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        proxy.start();
        proxy.join();
    }
}
