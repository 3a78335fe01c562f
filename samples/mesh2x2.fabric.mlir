// loomc sample fabric: a 2x2 switch mesh with one multiplier and one adder PE.
//
//   in0,in1 -> S00 ---> S01 <- in2        East/South hops are direct wires,
//               |  mul   |                West/North hops go through a FIFO
//               v  -->   v                so the mesh has no combinational loop.
//              S10 <--- S11 -> out0
//                   add (S01 -> add -> S10)
module {
  fabric.pe @pe_muli(%x: !dataflow.bits<32>, %y: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
  ^bb0(%a: i32, %b: i32):
    %0 = arith.muli %a, %b : i32
    fabric.yield %0 : i32
  }

  fabric.pe @pe_addi(%x: !dataflow.bits<32>, %y: !dataflow.bits<32>) -> (!dataflow.bits<32>) {
  ^bb0(%a: i32, %b: i32):
    %0 = arith.addi %a, %b : i32
    fabric.yield %0 : i32
  }

  fabric.module @mesh2x2(
      %in0: !dataflow.bits<32>,
      %in1: !dataflow.bits<32>,
      %in2: !dataflow.bits<32>
  ) -> (!dataflow.bits<32>) {
    // S00: in [in0, in1, north-from-S10, west-from-S01]; out [east, south, mul.x, mul.y]
    %s00:4 = fabric.switch [connectivity_table = [
        1, 1, 1, 1,
        1, 1, 1, 1,
        1, 1, 1, 1,
        1, 1, 1, 1]]
        %in0, %in1, %f10_00, %f01_00
        : !dataflow.bits<32>
       -> !dataflow.bits<32>, !dataflow.bits<32>, !dataflow.bits<32>, !dataflow.bits<32>

    // S01: in [in2, from-S00, north-from-S11, mul]; out [west, south, add.x, add.y]
    %s01:4 = fabric.switch [connectivity_table = [
        1, 1, 1, 1,
        1, 1, 1, 1,
        1, 1, 1, 1,
        1, 1, 1, 1]]
        %in2, %s00#0, %f11_01, %mul
        : !dataflow.bits<32>
       -> !dataflow.bits<32>, !dataflow.bits<32>, !dataflow.bits<32>, !dataflow.bits<32>

    // S10: in [from-S00, west-from-S11, add]; out [north, east]
    %s10:2 = fabric.switch [connectivity_table = [
        1, 1, 1,
        1, 1, 1]]
        %s00#1, %f11_10, %add
        : !dataflow.bits<32>
       -> !dataflow.bits<32>, !dataflow.bits<32>

    // S11: in [from-S01, from-S10]; out [north, west, out0]
    %s11:3 = fabric.switch [connectivity_table = [
        1, 1,
        1, 1,
        1, 1]]
        %s01#1, %s10#1
        : !dataflow.bits<32>
       -> !dataflow.bits<32>, !dataflow.bits<32>, !dataflow.bits<32>

    %f10_00 = fabric.fifo [depth = 2] %s10#0 : !dataflow.bits<32>
    %f01_00 = fabric.fifo [depth = 2] %s01#0 : !dataflow.bits<32>
    %f11_01 = fabric.fifo [depth = 2] %s11#0 : !dataflow.bits<32>
    %f11_10 = fabric.fifo [depth = 2] %s11#1 : !dataflow.bits<32>

    %mul = fabric.instance @pe_muli(%s00#2, %s00#3) {sym_name = "mul_0"}
        : (!dataflow.bits<32>, !dataflow.bits<32>) -> !dataflow.bits<32>
    %add = fabric.instance @pe_addi(%s01#2, %s01#3) {sym_name = "add_0"}
        : (!dataflow.bits<32>, !dataflow.bits<32>) -> !dataflow.bits<32>

    fabric.yield %s11#2 : !dataflow.bits<32>
  }
}
