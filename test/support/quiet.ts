// Servers started inside the test process log only warnings and errors.
import { setLogLevel } from "../../src/log.ts";

setLogLevel("warn");
