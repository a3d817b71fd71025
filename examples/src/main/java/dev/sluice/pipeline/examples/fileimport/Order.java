package dev.sluice.pipeline.examples.fileimport;

import java.math.BigDecimal;
import java.util.Locale;

/** One line of the orders file: {@code id,customer,email,amount}. */
record Order(long id, String customer, String email, long amountCents) {

    /**
     * Parses a line; a malformed line throws {@link IllegalArgumentException} naming what is wrong (the field and
     * its value, never the whole line).
     */
    static Order parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 4) {
            throw new IllegalArgumentException("expected 4 fields (id,customer,email,amount), got " + f.length);
        }
        long id;
        try {
            id = Long.parseLong(f[0].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("id '" + f[0].trim() + "' is not a whole number");
        }
        long cents;
        try {
            cents = new BigDecimal(f[3].trim()).movePointRight(2).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("amount '" + f[3].trim() + "' is not a number with at most 2 decimals");
        }
        return new Order(id, f[1].trim(), f[2].trim(), cents);
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
