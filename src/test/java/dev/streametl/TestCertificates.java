package dev.streametl;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made for one test run, and a server certificate it signed for {@code localhost} and
 * {@code 127.0.0.1}, as files: PEM for PostgreSQL, Elasticsearch and the clients, PKCS12 for the Kafka broker. Made at
 * test time so that no key is ever committed; valid for a day.
 *
 * @param caCertificate  the CA certificate, PEM: what a client trusts
 * @param certificate    the server certificate, PEM
 * @param privateKey     the server's private key, PKCS#8 PEM, unencrypted, readable by its owner only
 * @param keyStore       the server's key and certificate chain, PKCS12, readable by its owner only
 * @param keyStorePassword the password of {@code keyStore} (and of its key entry)
 */
record TestCertificates(Path caCertificate, Path certificate, Path privateKey, Path keyStore, String keyStorePassword) {

    static final String KEY_ALIAS = "server";
    private static final String SIGNATURE = "SHA256withRSA";
    private static final Duration VALIDITY = Duration.ofDays(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Makes the CA and the server certificate and writes ca.crt, server.crt, server.key and server.p12 into {@code dir}. */
    static TestCertificates create(Path dir) throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048, RANDOM);
        KeyPair caKeys = generator.generateKeyPair();
        KeyPair serverKeys = generator.generateKeyPair();
        X500Name caName = new X500Name("CN=streametl test CA " + Instant.now());
        Instant now = Instant.now();
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();

        X509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(caName, serialNumber(),
                // an hour back: clocks of the servers and the test are the same here, but a second's rounding is not
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), caName, caKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(caKeys.getPublic()));
        X509Certificate caCertificate = sign(ca, caKeys.getPrivate());

        X509v3CertificateBuilder server = new JcaX509v3CertificateBuilder(caCertificate, serialNumber(),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), new X500Name("CN=localhost"),
                serverKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                // clientAuth too: the Kafka broker is its own client on its inter-broker connections
                .addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1")}))
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(serverKeys.getPublic()))
                .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(caCertificate));
        X509Certificate serverCertificate = sign(server, caKeys.getPrivate());

        TestCertificates files = new TestCertificates(dir.resolve("ca.crt"), dir.resolve("server.crt"),
                dir.resolve("server.key"), dir.resolve("server.p12"), secret());
        Files.writeString(files.caCertificate, pem("CERTIFICATE", caCertificate.getEncoded()), StandardCharsets.US_ASCII);
        Files.writeString(files.certificate, pem("CERTIFICATE", serverCertificate.getEncoded())
                + pem("CERTIFICATE", caCertificate.getEncoded()), StandardCharsets.US_ASCII);
        writeOwnerOnly(files.privateKey, pem("PRIVATE KEY", serverKeys.getPrivate().getEncoded())
                .getBytes(StandardCharsets.US_ASCII));

        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        char[] password = files.keyStorePassword.toCharArray();
        keyStore.setKeyEntry(KEY_ALIAS, serverKeys.getPrivate(), password, new Certificate[] {serverCertificate, caCertificate});
        createOwnerOnly(files.keyStore);
        try (OutputStream out = Files.newOutputStream(files.keyStore)) {
            keyStore.store(out, password);
        }
        return files;
    }

    /** A TLS context that trusts this CA and nothing else (not the JDK's public CAs). */
    SSLContext trustingOnlyTheCa() throws IOException, GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        try (var in = Files.newInputStream(caCertificate)) {
            trusted.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), RANDOM);
        return context;
    }

    /** A random secret of 128 bits as 32 hex digits: safe unquoted in a JAAS line, a pwfile, a URL or a keystore. */
    static String secret() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Hides the keystore password, should a record be printed. */
    @Override
    public String toString() {
        return "TestCertificates[" + caCertificate.getParent() + "]";
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(issuerKey)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with " + SIGNATURE, e);
        }
    }

    private static BigInteger serialNumber() {
        return new BigInteger(64, RANDOM).add(BigInteger.ONE);
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
               + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
               + "\n-----END " + type + "-----\n";
    }

    /** Writes a file that only its owner may read, created so from the start (never readable by others, not even briefly). */
    static void writeOwnerOnly(Path file, byte[] content) throws IOException {
        createOwnerOnly(file);
        Files.write(file, content);
    }

    private static void createOwnerOnly(Path file) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
}
