package dev.sluice.pipeline.examples.fileimport;

import java.math.BigDecimal;
import java.util.Locale;

/** One line of the orders file: {@code id,customer,email,amount}. */
record Order(long id, String customer, String email, long amountCents) {

    /** Parses a line; a malformed line throws {@link IllegalArgumentException} naming what is wrong. */
    static Order parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 4) {
            throw new IllegalArgumentException("expected 4 fields, got " + f.length);
        }
        try {
            long cents = new BigDecimal(f[3].trim()).movePointRight(2).longValueExact();
            return new Order(Long.parseLong(f[0].trim()), f[1].trim(), f[2].trim(), cents);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("bad number in '" + line + "'", e);
        }
    }

    /** The transformation step: canonical e-mail and customer name. */
    Order normalized() {
        String name = customer.isEmpty()
                ? customer
                : Character.toUpperCase(customer.charAt(0))
                        + customer.substring(1).toLowerCase(Locale.ROOT);
        return new Order(id, name, email.toLowerCase(Locale.ROOT), amountCents);
    }
}
