// @foliosim/gup as the foliosim process loaded it: variant modules share its machine and operations.
module.exports = globalThis[Symbol.for("foliosim.modules")]["@foliosim/gup"];
