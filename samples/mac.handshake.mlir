// loomc sample DFG: y = a * b + c on 32-bit integers.
module {
  handshake.func @mac(%a: i32, %b: i32, %c: i32, ...) -> (i32)
      attributes {argNames = ["a", "b", "c"], loom.annotations = ["loom.accel"], resNames = ["y"]} {
    %p = arith.muli %a, %b : i32
    %y = arith.addi %p, %c : i32
    handshake.return %y : i32
  }
}
