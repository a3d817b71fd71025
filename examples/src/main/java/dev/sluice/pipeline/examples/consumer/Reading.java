package dev.sluice.pipeline.examples.consumer;

/** A sensor reading, as the consumer job receives it and stores it. */
record Reading(long sequence, String sensor, double celsius) {

    static Reading next(long sequence) {
        String sensor = "sensor-" + (sequence % 16);
        double celsius = 18.0 + (sequence % 100) / 10.0;
        return new Reading(sequence, sensor, celsius);
    }

    double fahrenheit() {
        return celsius * 9 / 5 + 32;
    }
}
