// The physical function an index belongs to, where each of the FUNCTIONS functions
// (the including module's parameter) owns ``per`` consecutive indices in turn: queue
// table entries, MSI-X vectors. Comparators against constants, not a divider, as
// ``per`` need not be a power of two (one function of 65 queues).
function [1:0] function_of(input [31:0] index, input [31:0] per);
    function_of = FUNCTIONS > 3 && index >= 3 * per ? 2'd3
                : FUNCTIONS > 2 && index >= 2 * per ? 2'd2
                : FUNCTIONS > 1 && index >= per ? 2'd1 : 2'd0;
endfunction
