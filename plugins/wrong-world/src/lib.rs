//! wrong-world (test only): a well-formed component of another world. runner must refuse to load
//! it with a message about the WIT mismatch, not trap or crash.

wit_bindgen::generate!({
    inline: "
        package other:thing@1.0.0;

        world thing {
            export run: func() -> u32;
        }
    ",
    world: "thing",
});

struct WrongWorld;

export!(WrongWorld);

impl Guest for WrongWorld {
    fn run() -> u32 {
        42
    }
}
